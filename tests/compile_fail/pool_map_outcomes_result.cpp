// Must not compile: map_outcomes' results must cross back: no pointers.
#include <multiproc/pool.hpp>
#include <vector>

const char* label(int i) {
  return i % 2 ? "odd" : "even";
}

int main() {
  multiproc::Pool pool;
  auto outcomes = pool.map_outcomes(label, std::vector<int>{1, 2});
}
