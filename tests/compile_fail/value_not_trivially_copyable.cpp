// Must not compile: a Value shares its bytes as they are; a std::string's
// bytes point into one process's heap.
#include <multiproc/value.hpp>
#include <string>

int main() {
  multiproc::Value<std::string> v("text");
  std::string s = v.value();
}
