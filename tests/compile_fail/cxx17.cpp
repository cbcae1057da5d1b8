// Must not compile: multiproc needs C++20; compiled with -std=c++17, the
// first error says which flag to use.
#include <multiproc/process.hpp>
int main() {}
