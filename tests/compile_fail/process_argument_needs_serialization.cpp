// Must not compile: process.hpp alone sends numbers, strings, vectors of
// numbers and shared objects; a std::map argument needs serialization.hpp
// (which is what keeps cereal out of programs that do not send one).
#include <map>
#include <multiproc/process.hpp>

void count(std::map<int, int>) {}

int main() {
  multiproc::Process p(count, std::map<int, int>{{1, 2}});
  p.start();
}
