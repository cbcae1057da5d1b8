// A hello-world child: Process and Event from multiproc.hpp.
#include <cstdio>
#include <multiproc/multiproc.hpp>

void greet(multiproc::Event done, int n) {
  std::printf("hello %d\n", n);
  done.set();
}

int main() {
  multiproc::Event done;
  multiproc::Process p(greet, done, 42);
  p.start();
  p.join();
  return done.is_set() ? 0 : 1;
}
