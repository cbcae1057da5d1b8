// Must not compile: a pointer means nothing in another process.
#include <multiproc/multiproc.hpp>

int main() {
  int x = 0;
  multiproc::Queue<int*> q;
  q.put(&x);
}
