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

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

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
  // Who asked for the fork: the message gives the fix that applies to it.
  enum class Caller { process, pool };
  explicit ForkUnsafeError(int thread_count, Caller caller = Caller::process);
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

// A deadline passed before the operation could complete, where the call's
// return type cannot say "not in time" (AsyncResult::get(timeout), a
// message that began to arrive but did not finish); calls that can say it
// return false or an empty optional instead (docs/errors.md).
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
// name, its message and the worker's PID (RemoteError::info()). For map,
// starmap, imap and map_outcomes, item() is the index in the input of the
// item whose call threw (what() says it too); for apply, none.
class RemoteError : public Error {
 public:
  explicit RemoteError(ExceptionInfo info, std::optional<std::size_t> item = std::nullopt);
  const ExceptionInfo& info() const noexcept { return info_; }
  std::optional<std::size_t> item() const noexcept { return item_; }
  // Whether the task threw a T exactly: `if (e.is<std::out_of_range>())`.
  // register_exception<T>() (register_exception.hpp) makes the parent throw
  // T itself instead.
  template <class T>
  bool is() const {
    return info_.is<T>();
  }

 private:
  ExceptionInfo info_;
  std::optional<std::size_t> item_;
};

// A Pool task's worker died while running it (a crash, a kill from outside,
// the memory limit), or the pool stopped it (terminate(), the destructor):
// its PID and how it ended. The task may have done part of its work.
// item(): the index in the input of the item it was running (map, starmap,
// imap, map_outcomes), so the input that crashed it can be found.
class WorkerLost : public Error {
 public:
  WorkerLost(pid_t pid, ExitStatus status, const std::string& why,
             std::optional<std::size_t> item = std::nullopt);
  pid_t pid() const noexcept { return pid_; }
  const ExitStatus& status() const noexcept { return status_; }
  std::optional<std::size_t> item() const noexcept { return item_; }

 private:
  pid_t pid_;
  ExitStatus status_;
  std::optional<std::size_t> item_;
};

// A Pool task ran past its timeout: its worker was killed and replaced.
// item(): as for WorkerLost, the item that was running.
class TaskTimeoutError : public TimeoutError {
 public:
  TaskTimeoutError(pid_t pid, std::chrono::nanoseconds timeout,
                   std::optional<std::size_t> item = std::nullopt);
  pid_t pid() const noexcept { return pid_; }
  std::optional<std::size_t> item() const noexcept { return item_; }

 private:
  pid_t pid_;
  std::optional<std::size_t> item_;
};

// JoinableQueue::join() found unfinished items that can never be done:
// none is queued, no live consumer holds one, and the consumer threads that
// took them with get() ended (killed, crashed, or a thread that returned)
// before their task_done(). The items were not re-queued. items(): how many
// are unfinished; consumers(): who held them; pid(): the first one's
// process. Every later join() reports them again, until task_done() is
// called once for each of them (which writes them off).
class ConsumerLost : public Error {
 public:
  struct Consumer {
    pid_t pid;            // the consumer's process
    pid_t tid;            // its thread (== pid for a process's main thread)
    std::uint64_t items;  // unfinished items it held
  };
  ConsumerLost(std::uint64_t items, std::vector<Consumer> consumers);
  pid_t pid() const noexcept { return consumers_.empty() ? 0 : consumers_.front().pid; }
  std::uint64_t items() const noexcept { return items_; }
  const std::vector<Consumer>& consumers() const noexcept { return consumers_; }

 private:
  std::uint64_t items_;
  std::vector<Consumer> consumers_;
};

// A Pool task was cancelled (AsyncResult::cancel), or never started because
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
