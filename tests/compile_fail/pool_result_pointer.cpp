// Must not compile: a task's pointer result would name memory in the worker.
#include <multiproc/pool.hpp>
#include <vector>

int storage[4];
int* at(int i) {
  return &storage[i];
}

int main() {
  multiproc::Pool pool;
  auto pointers = pool.map(at, std::vector<int>{0, 1, 2});
}
