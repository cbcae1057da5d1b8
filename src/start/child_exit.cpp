#include <stdio_ext.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#if defined(__GLIBCXX__)
#include <ext/stdio_sync_filebuf.h>
#endif

#include "start/child_setup.hpp"
#include "start/forkserver.hpp"

#ifdef MULTIPROC_COVERAGE
extern "C" void __gcov_dump(void);
#endif

namespace multiproc::detail {
namespace {

// Flushing takes the stream's lock, a write that costs a copy-on-write page
// fault in a fresh child: flush only streams that hold unwritten data.
void flush_if_pending(FILE* f) noexcept {
  if (__fpending(f) > 0) (void)std::fflush(f);
}

// A C++ stream synchronised with stdio (the default) buffers nothing of its
// own; one with its own buffer (after sync_with_stdio(false), or a replaced
// rdbuf) is flushed.
void flush_if_own_buffer(std::ostream& os) noexcept {
#if defined(__GLIBCXX__)
  if (dynamic_cast<__gnu_cxx::stdio_sync_filebuf<char>*>(os.rdbuf()) != nullptr) return;
#endif
  try {
    os.flush();
  } catch (...) {
  }
}

}  // namespace

void exit_child(int code) noexcept {
  // A zygote this child started for its own forkserver children ends with
  // it, reaped here, rather than lingering as an orphan until its death signal.
  stop_own_forkserver();
  flush_if_own_buffer(std::cout);
  flush_if_own_buffer(std::clog);
  flush_if_pending(stdout);
  flush_if_pending(stderr);
#ifdef MULTIPROC_COVERAGE
  // _exit skips libgcov's exit handler: write this child's counters now.
  __gcov_dump();
#endif
  _exit(code & 0xff);
}

}  // namespace multiproc::detail
