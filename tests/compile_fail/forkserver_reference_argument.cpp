// Must not compile: forkserver sends arguments to the child; a reference
// (std::ref) or a pointer means nothing there.
#include <functional>
#include <multiproc/multiproc.hpp>

void add(int& total) {
  total += 1;
}

int main(int argc, char** argv) {
  multiproc::init(argc, argv);
  int total = 0;
  auto ctx = multiproc::get_context<multiproc::StartMethod::forkserver>();
  auto p = ctx.Process(add, std::ref(total));
  p.start();
}
