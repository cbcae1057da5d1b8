#include "multiproc/error.hpp"

namespace multiproc {

SystemError::SystemError(const std::string& operation, int errnum)
    : Error("multiproc: " + operation + " failed: " + std::system_category().message(errnum)),
      code_(errnum, std::system_category()) {}

ForkUnsafeError::ForkUnsafeError(int thread_count)
    : UsageError("multiproc: refusing to fork: this process has " + std::to_string(thread_count) +
                 " threads, and a forked child of a multi-threaded process may deadlock on any "
                 "lock another thread held (malloc, stdio, a logger). Use the forkserver or spawn "
                 "start method, fork before starting threads, or set "
                 "ProcessOptions::allow_fork_with_threads if the child only runs "
                 "async-signal-safe code"),
      thread_count_(thread_count) {}

}  // namespace multiproc
