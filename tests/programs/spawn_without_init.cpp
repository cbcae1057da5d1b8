// A program that forgets multiproc::init: spawn and forkserver must refuse
// with an error that names init, and fork must still work.
#include <multiproc/multiproc.hpp>

#include <iostream>
#include <string>

namespace mp = multiproc;

int seven() {
  return 7;
}

int main() {
  for (auto method : {mp::StartMethod::spawn, mp::StartMethod::forkserver}) {
    mp::Process p = mp::get_context(method).Process(seven);
    try {
      p.start();
      std::cerr << mp::to_string(method) << " started without init\n";
      return 1;
    } catch (const mp::UsageError& e) {
      if (std::string(e.what()).find("multiproc::init(argc, argv)") == std::string::npos) {
        std::cerr << "unclear error: " << e.what() << '\n';
        return 1;
      }
      std::cout << mp::to_string(method) << ": " << e.what() << '\n';
    }
  }
  mp::Process p(seven);
  p.start();
  p.join();
  return p.exitcode() == 7 ? 0 : 1;
}
