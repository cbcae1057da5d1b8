// A program outside the multiproc tree, built against the installed package.
#include <multiproc/multiproc.hpp>

#include <iostream>

int main() {
  multiproc::Process p([] { return 42; });
  p.start();
  p.join();
  std::cout << "child exited with code " << *p.exitcode() << std::endl;
  return *p.exitcode() == 42 ? 0 : 1;
}
