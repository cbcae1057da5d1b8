// Must not compile: a queue of references.
#include <multiproc/queue.hpp>

int main() {
  multiproc::SimpleQueue<int&> q;
}
