// Python's first multiprocessing example, in C++:
//
//   def f(name): print('hello', name)
//   p = Process(target=f, args=('bob',)); p.start(); p.join()
#include <multiproc/multiproc.hpp>

#include <iostream>
#include <string>

namespace mp = multiproc;

void f(const std::string& name) {
  std::cout << "hello " << name << std::endl;
}

int main() {
  mp::Process p(f, std::string("bob"));
  p.start();
  p.join();
  std::cout << "child " << p.name() << " exited with code " << *p.exitcode() << std::endl;
}
