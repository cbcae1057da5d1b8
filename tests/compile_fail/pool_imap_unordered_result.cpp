// Must not compile: imap_unordered's results must cross back too.
#include <memory>
#include <multiproc/pool.hpp>
#include <vector>

struct Handle {
  std::unique_ptr<int> owned;
};

int main() {
  multiproc::Pool pool;
  auto results = pool.imap_unordered([](int) { return Handle{}; }, std::vector<int>{1, 2});
}
