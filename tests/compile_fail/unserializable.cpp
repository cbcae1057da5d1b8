// Must not compile: a type with no way across a process boundary.
#include <multiproc/multiproc.hpp>

struct Handle {
  std::unique_ptr<int> owned;  // neither trivially copyable nor serializable
};

int main() {
  auto [a, b] = multiproc::Pipe();
  a.send(Handle{});
}
