// multiproc/error.hpp — the exceptions thrown at the library's surface.
//
// Every exception derives from multiproc::Error, so one catch clause covers
// the library:
//
//   try { p.start(); }
//   catch (const mp::ForkUnsafeError& e) { /* use spawn or forkserver */ }
//   catch (const mp::Error& e) { std::cerr << e.what() << '\n'; }
//
// Messages name the operation, the PID where one applies, and the errno text.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <system_error>

#include "multiproc/exception_info.hpp"
#include "multiproc/exit_status.hpp"

namespace multiproc {

// Base of every exception the library throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A system call failed. code() holds the errno value (system_category).
class SystemError : public Error {
 public:
  // `operation` names what failed, e.g. "fork" or "pidfd_open (pid 42)".
  SystemError(const std::string& operation, int errnum);
  const std::error_code& code() const noexcept { return code_; }

 private:
  std::error_code code_;
};

// The caller used an object in a way its contract forbids: start() twice,
// join() before start(), changing `daemon` after start, and the like.
class UsageError : public Error {
 public:
  using Error::Error;
};

// A plain fork was refused because the process has more than one thread:
// the child of a multi-threaded fork may deadlock on any lock (malloc, stdio,
// a logger) that another thread held at the moment of the fork.
class ForkUnsafeError : public UsageError {
 public:
  explicit ForkUnsafeError(int thread_count);
  int thread_count() const noexcept { return thread_count_; }

 private:
  int thread_count_;
};

// The other end of a channel is gone (it closed, exited or was killed) and
// nothing more will arrive: Python's EOFError.
class EOFError : public Error {
 public:
  using Error::Error;
};

// Sending failed because the other end is gone (EPIPE or ECONNRESET). No
// SIGPIPE is ever raised by the library.
class BrokenPipeError : public Error {
 public:
  using Error::Error;
};

// Bytes on a channel do not form a valid message: bad magic, a length over the
// limit, a truncated frame. The channel cannot be trusted any more.
class ProtocolError : public Error {
 public:
  using Error::Error;
};

// A Queue was shut down (Queue::shutdown, Python 3.13's queue.ShutDown): put
// refuses at once; get refuses once the queue is empty (at once after an
// immediate shutdown). Waiters blocked in put or get wake with it.
class ShutDown : public Error {
 public:
  using Error::Error;
};

// A Listener/Client handshake failed: the peer does not know the authkey,
// or one side has a key and the other none (Python's AuthenticationError).
// Nothing the peer sent after its greeting was decoded.
class AuthenticationError : public Error {
 public:
  using Error::Error;
};

// A message could not be turned back into a value: wrong type, wrong size,
// or bytes that the type's decoder rejects.
class DecodeError : public Error {
 public:
  using Error::Error;
};

// A deadline passed before the operation could complete.
class TimeoutError : public Error {
 public:
  using Error::Error;
};

// A Lock or RLock was taken with lock() (std::lock_guard, std::unique_lock)
// and its previous owner had died holding it. lock() has released it again
// without marking it consistent, so the lock is now unrecoverable: nobody can
// trust the state it protected. Use acquire() to recover from owner death.
class OwnerDied : public Error {
 public:
  using Error::Error;
};

// A Lock or RLock whose owner died was released without make_consistent():
// it can never be acquired again. Every acquire throws this.
class LockNotRecoverable : public Error {
 public:
  using Error::Error;
};

// A Barrier was aborted, reset while parties waited, timed out, lost a party
// that died holding its internal lock, or its action threw.
class BrokenBarrierError : public Error {
 public:
  using Error::Error;
};

// A Pool task's exception, raised again in the caller: the exception's type
// name, its message and the worker's PID (RemoteError::info()).
class RemoteError : public Error {
 public:
  explicit RemoteError(ExceptionInfo info);
  const ExceptionInfo& info() const noexcept { return info_; }

 private:
  ExceptionInfo info_;
};

// A Pool task's worker died while running it (a crash, a kill from outside,
// the memory limit): its PID and how it ended. The pool replaced the worker.
class WorkerLost : public Error {
 public:
  WorkerLost(pid_t pid, ExitStatus status, const std::string& why);
  pid_t pid() const noexcept { return pid_; }
  const ExitStatus& status() const noexcept { return status_; }

 private:
  pid_t pid_;
  ExitStatus status_;
};

// A Pool task ran past its timeout: its worker was killed and replaced.
class TaskTimeoutError : public TimeoutError {
 public:
  TaskTimeoutError(pid_t pid, std::chrono::nanoseconds timeout);
  pid_t pid() const noexcept { return pid_; }

 private:
  pid_t pid_;
};

// A Pool task was cancelled (AsyncResult::cancel), or could not run because
// the pool was terminated first.
class CancelledError : public Error {
 public:
  using Error::Error;
};

// A blocking call ended because the stop token it was given was stopped
// (a signal through the signal bridge, or any std::stop_source).
class Interrupted : public Error {
 public:
  using Error::Error;
};

}  // namespace multiproc
