#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "process/child_setup.hpp"

#ifdef MULTIPROC_COVERAGE
extern "C" void __gcov_dump(void);
#endif

namespace multiproc::detail {

void exit_child(int code) noexcept {
  // std::cout may have its own buffer (after sync_with_stdio(false)).
  try {
    std::cout.flush();
    std::cerr.flush();
  } catch (...) {
  }
  std::fflush(nullptr);
#ifdef MULTIPROC_COVERAGE
  // _exit skips libgcov's exit handler: write this child's counters now.
  __gcov_dump();
#endif
  _exit(code & 0xff);
}

}  // namespace multiproc::detail
