// Must not compile: an Array shares its elements' bytes as they are.
#include <multiproc/array.hpp>
#include <string>

int main() {
  multiproc::Array<std::string> names(3);
  names[0] = "x";
}
