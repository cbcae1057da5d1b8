// Must not compile: a pointer in shared memory means nothing in the other
// processes, which map it at their own addresses.
#include <multiproc/value.hpp>

int main() {
  int x = 0;
  multiproc::Value<int*> v(&x);
}
