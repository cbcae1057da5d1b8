// Must not compile: map collects each call's result, and this task has none.
#include <multiproc/pool.hpp>
#include <vector>

void work(int) {}

int main() {
  multiproc::Pool pool;
  pool.map(work, std::vector<int>{1, 2});
}
