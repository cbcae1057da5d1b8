// Must not compile: a Queue sends its items to other processes.
#include <memory>
#include <multiproc/queue.hpp>

struct Handle {
  std::unique_ptr<int> owned;
};

int main() {
  multiproc::Queue<Handle> q;
  q.put(Handle{});
}
