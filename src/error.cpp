#include "multiproc/error.hpp"

#include <sstream>

namespace multiproc {

SystemError::SystemError(const std::string& operation, int errnum)
    : Error("multiproc: " + operation + " failed: " + std::system_category().message(errnum)),
      code_(errnum, std::system_category()) {}

namespace {

std::string fork_refusal(int thread_count, ForkUnsafeError::Caller caller) {
  std::string why = std::to_string(thread_count) +
                    " threads, and a forked child of a multi-threaded process may deadlock on "
                    "any lock another thread held (malloc, stdio, a logger). Fix: write "
                    "`mp::init(argc, argv, {.forkserver = true});` first thing in main and ";
  if (caller == ForkUnsafeError::Caller::pool) {
    return "Pool: refusing to fork workers: this process has " + why +
           "create the pool with `mp::Pool pool({.start_method = "
           "mp::StartMethod::forkserver});` (or once, early: "
           "`mp::set_start_method(mp::StartMethod::forkserver);`); or use "
           "mp::StartMethod::spawn; or create the pool before any thread starts";
  }
  return "multiproc: refusing to fork: this process has " + why +
         "start with `{.start_method = mp::StartMethod::forkserver}` (or once, early: "
         "`mp::set_start_method(mp::StartMethod::forkserver);`); or use "
         "mp::StartMethod::spawn; or start the process before any thread; or, if the "
         "child only runs async-signal-safe code, "
         "`ProcessOptions{.allow_fork_with_threads = true}`";
}

}  // namespace

ForkUnsafeError::ForkUnsafeError(int thread_count, Caller caller)
    : UsageError(fork_refusal(thread_count, caller)), thread_count_(thread_count) {}

namespace {

// " (input item 17)" when the error names an item: appended, so that the
// message reads as before up to there.
std::string item_note(std::optional<std::size_t> item) {
  return item ? " (input item " + std::to_string(*item) + ")" : std::string();
}

}  // namespace

RemoteError::RemoteError(ExceptionInfo info, std::optional<std::size_t> item)
    : Error(info.type + (info.message.empty() ? "" : ": " + info.message) +
            " (in pool worker pid " + std::to_string(info.pid) + ")" + item_note(item)),
      info_(std::move(info)),
      item_(item) {}

WorkerLost::WorkerLost(pid_t pid, ExitStatus status, const std::string& why,
                       std::optional<std::size_t> item)
    : Error("pool worker pid " + std::to_string(pid) + " " + why + " (" + status.describe() + ")" +
            item_note(item)),
      pid_(pid),
      status_(status),
      item_(item) {}

namespace {

std::string count_of(std::uint64_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

std::string describe_lost(std::uint64_t items, const std::vector<ConsumerLost::Consumer>& held) {
  std::string s =
      "JoinableQueue::join: " + count_of(items, "unfinished item") + " can never be done: ";
  for (std::size_t i = 0; i < held.size(); ++i) {
    const ConsumerLost::Consumer& c = held[i];
    s += (i == 0 ? "consumer pid " : "; consumer pid ") + std::to_string(c.pid);
    if (c.tid != c.pid) s += " (thread " + std::to_string(c.tid) + ")";
    s += " ended holding " + count_of(c.items, "item");
  }
  return s + " before task_done(); not re-queued (task_done() once per lost item writes it off)";
}

}  // namespace

ConsumerLost::ConsumerLost(std::uint64_t items, std::vector<Consumer> consumers)
    : Error(describe_lost(items, consumers)), items_(items), consumers_(std::move(consumers)) {}

namespace {

// "2 s", "0.25 s": as short as the value allows.
std::string seconds(std::chrono::nanoseconds d) {
  std::ostringstream out;
  out << std::chrono::duration<double>(d).count() << " s";
  return out.str();
}

}  // namespace

TaskTimeoutError::TaskTimeoutError(pid_t pid, std::chrono::nanoseconds timeout,
                                   std::optional<std::size_t> item)
    : TimeoutError("task ran past its timeout of " + seconds(timeout) + "; its worker (pid " +
                   std::to_string(pid) + ") was killed and replaced" + item_note(item)),
      pid_(pid),
      item_(item) {}

}  // namespace multiproc
