// Must not compile: a task's reference result would name memory in the worker.
#include <multiproc/pool.hpp>
#include <string>
#include <vector>

const std::string& name(int) {
  static const std::string s = "x";
  return s;
}

int main() {
  multiproc::Pool pool;
  for (const auto& s : pool.imap(name, std::vector<int>{0, 1, 2})) (void)s;
}
