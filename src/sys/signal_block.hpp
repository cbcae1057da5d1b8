// BlockAllSignals: every signal blocked on the calling thread for one scope,
// the mask restored as it ends. Used around fork (so no handler of the
// parent runs in the child before it resets its dispositions) and around
// starting a thread that must never run a handler (it inherits the mask).
// A child that never returns from the scope keeps every signal blocked until
// it unblocks them itself. Async-signal-safe; glibc's sigfillset leaves out
// its two internal signals, which stay as they were.
#pragma once

#include <pthread.h>
#include <signal.h>

namespace multiproc::sys {

class BlockAllSignals {
 public:
  BlockAllSignals() noexcept {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old_);
  }
  ~BlockAllSignals() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  BlockAllSignals(const BlockAllSignals&) = delete;
  BlockAllSignals& operator=(const BlockAllSignals&) = delete;

 private:
  sigset_t old_;
};

}  // namespace multiproc::sys
