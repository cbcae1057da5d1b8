// Must not compile: a JoinableQueue sends its items to other processes.
#include <memory>
#include <multiproc/queue.hpp>

struct Handle {
  std::unique_ptr<int> owned;
};

int main() {
  multiproc::JoinableQueue<Handle> q;
  q.put(Handle{});
  Handle h = q.get();
  q.task_done();
}
