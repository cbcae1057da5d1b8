// Must not compile: starmap's results must cross back too.
#include <memory>
#include <multiproc/pool.hpp>
#include <tuple>
#include <vector>

struct Handle {
  std::unique_ptr<int> owned;
};

Handle make(int, int) {
  return {};
}

int main() {
  multiproc::Pool pool;
  std::vector<std::tuple<int, int>> pairs{{0, 1}};
  auto results = pool.starmap(make, pairs);
}
