// Must not compile: the task's result goes back to the caller's process, and
// this one has no way across.
#include <memory>
#include <multiproc/pool.hpp>

struct Handle {
  std::unique_ptr<int> owned;  // neither trivially copyable nor serializable
};

Handle make(int) {
  return {};
}

int main() {
  multiproc::Pool pool;
  auto h = pool.apply(make, 1);
}
