// The reference: what any C++ hello-world costs to compile.
#include <iostream>

int main() {
  std::cout << "hello\n";
}
