// Must not compile: a spawn child starts from a fresh program, so a lambda's
// captured state cannot reach it.
#include <multiproc/multiproc.hpp>

int main(int argc, char** argv) {
  multiproc::init(argc, argv);
  int captured = 3;
  auto ctx = multiproc::get_context<multiproc::StartMethod::spawn>();
  auto p = ctx.Process([captured] { return captured; });
  p.start();
}
