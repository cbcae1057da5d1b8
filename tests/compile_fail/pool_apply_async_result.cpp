// Must not compile: apply_async's result must cross back too.
#include <memory>
#include <multiproc/pool.hpp>

struct Handle {
  std::unique_ptr<int> owned;
};

int main() {
  multiproc::Pool pool;
  auto r = pool.apply_async([](int) { return Handle{}; }, 1);
}
