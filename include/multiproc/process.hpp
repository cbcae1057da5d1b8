// multiproc/process.hpp — a child process running a callable.
//
//   void greet(const std::string& who) { std::cout << "hello " << who << '\n'; }
//
//   mp::Process p(greet, std::string("bob"));
//   p.start();
//   p.join();                       // or p.join(5s), which says whether it ended
//   std::optional<int> code = p.exitcode();   // 0..255, or -N if killed by signal N
//
// Start method: ProcessOptions::start_method, else get_start_method() (fork
// by default; see start_method.hpp). With fork the child is a copy of the
// parent, so any callable works; arguments are copied (or moved) into the
// Process, as with std::thread. With spawn and forkserver the callable must be
// a function or a capture-less lambda and the arguments serializable or
// shared objects (they are sent to the child); start() throws UsageError
// otherwise (Context<StartMethod::spawn>, in context.hpp, makes it a
// compile-time error). This header alone sends numbers, enums, std::string,
// std::vector of numbers and shared objects (Event, Queue, Lock, ...); an
// argument of any other type (a struct, a std::map, a type with a serialize
// member) also needs #include <multiproc/serialization.hpp> (multiproc.hpp
// includes it), and the compiler says so: that keeps cereal out of programs
// that do not send such values (docs/performance.md, "Compile cost").
//
// A target returning `int` sets the exit code; other return values are
// ignored. An uncaught exception gives exit code 1, one line on the child's
// stderr, and exception() in the parent after the process ended.
//
// Fork safety: start() refuses to fork a process that has more than one
// thread (ForkUnsafeError) unless ProcessOptions::allow_fork_with_threads.
//
// In the child: all signals are blocked around the fork; then dispositions are
// reset to default and the mask emptied; every descriptor but 0, 1, 2, those
// in ProcessOptions::pass_fds and those of multiproc objects passed as
// arguments is closed; the child dies with its parent (PR_SET_PDEATHSIG,
// re-checked against the parent's PID); stdio is flushed and the child leaves
// with _exit, so the parent's atexit handlers and static destructors never
// run twice.
//
// The handle owns a pidfd: waiting uses waitid(P_PIDFD) and poll, signals use
// pidfd_send_signal, so a handle never signals a PID that was reused. The
// library installs no SIGCHLD handler and never calls waitpid(-1).
//
// Thread safety: a Process handle is used by one thread at a time; distinct
// handles are independent. Methods are not async-signal-safe.
//
// Destruction applies Python's exit rule to a child still running, and
// reaps it, so a dropped handle never leaves a zombie: a daemon child is
// terminated (SIGTERM, then SIGKILL after the exit grace period); any other
// child is joined, for at most the exit join timeout, then stopped the same
// way (see set_exit_join_timeout in current_process.hpp). Bounded in time.
// Children whose handle still exists at normal exit get the same rule then.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "multiproc/detail/process_target.hpp"
#include "multiproc/exception_info.hpp"
#include "multiproc/exit_status.hpp"
#include "multiproc/start_method.hpp"
#include "multiproc/stop.hpp"

namespace multiproc {

namespace detail {
class ChildState;
class ProcessLauncher;
}  // namespace detail

struct ProcessOptions {
  // Empty: "Process-N" (in a child: "Process-1:N", as Python numbers them).
  std::string name{};
  // A daemon child is terminated when its handle is destroyed or the parent
  // exits normally; another child is joined then (bounded).
  bool daemon = false;
  // The child gets `parent_death_signal` when its parent dies (PR_SET_PDEATHSIG),
  // and dies at once if the parent died before it could arm that signal.
  bool die_with_parent = true;
  int parent_death_signal = SIGKILL;
  // Fork even if the process has other threads. The child may then deadlock on
  // a lock another thread held (malloc, stdio, a logger). The fork is done on a
  // long-lived library thread when start() is called from a thread other than
  // the main one, so that the death signal does not fire when the calling
  // thread exits.
  bool allow_fork_with_threads = false;
  // The child ignores SIGINT from its first instruction on (pool workers
  // do): Ctrl-C, which reaches the whole foreground process group, is then
  // left to the parent to act on (docs/signals.md).
  bool ignore_sigint = false;
  // The parent decides how the child ends (pool workers and supervised
  // function children have it): SIGINT and SIGHUP are ignored, and SIGTERM
  // ends the child only when this process (its parent) or the child itself
  // sends it. A signal sent to the whole process group (Ctrl-C, a shell's
  // `kill -TERM -PGID`, systemd's stop, a terminal hang-up) then reaches only
  // the parent, which decides; terminate() and stop() work as before.
  bool parent_decides_signals = false;
  // Descriptors the child keeps open besides 0, 1, 2 (which are never closed).
  // fork only: spawn and forkserver children receive descriptors as shared
  // objects passed as arguments (a Connection, say).
  std::vector<int> pass_fds{};
  // fork, spawn or forkserver; unset: get_start_method() at start().
  std::optional<StartMethod> start_method{};
  // The child's whole process tree ends with it (multiproc/containment.hpp,
  // docs/containment.md): kill() and this process's death (SIGKILL
  // included) end every process the child started, at any depth, setsid'd
  // or not; what is left of the tree when the child ends is killed as it is
  // reaped. Off by default for a Process (a child made to start a daemon
  // must not take it along, and a fork child pays ~0.7 ms to enter its
  // cgroup); Pool workers and supervised children have it on.
  bool contain = false;
};

class Process {
 public:
  template <class F, class... Args>
  requires detail::Target<F, Args...>
  explicit Process(F&& target, Args&&... args)
      : Process(ProcessOptions{}, std::forward<F>(target), std::forward<Args>(args)...) {}

  template <class F, class... Args>
  requires detail::Target<F, Args...> Process(ProcessOptions options, F&& target, Args&&... args)
      : Process(std::move(options),
                detail::make_target(std::forward<F>(target), std::forward<Args>(args)...)) {}

  Process(ProcessOptions options, std::unique_ptr<detail::ProcessTarget> target);
  ~Process();

  Process(Process&&) noexcept;
  Process& operator=(Process&&) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Starts the child. Throws UsageError if already started, or when spawn or
  // forkserver cannot send the target or init() was not called;
  // ForkUnsafeError when fork would copy other threads (unless allowed);
  // SystemError when the kernel refuses; Error when the forkserver died.
  void start();

  // Waits until the child ends and reaps it. Throws UsageError before start().
  void join();
  // Waits at most `timeout`; true if the child ended (and was reaped).
  bool join(std::chrono::nanoseconds timeout);
  // Waits until the child ends; Interrupted when `stop` is requested first
  // (the child goes on).
  void join(std::stop_token stop) {
    detail::until_stopped(stop, "Process::join", [&](auto slice) { return join(slice); });
  }

  // Whether the child was started and has not ended (reaps it if it has).
  bool is_alive();
  // Exit code once ended: 0..255, or -N for death by signal N; nullopt before.
  std::optional<int> exitcode();
  // The full exit status once ended (signal, core dump); nullopt before.
  std::optional<ExitStatus> exit_status();

  // SIGTERM / SIGKILL through the pidfd. No-op once the child was reaped.
  void terminate();
  void kill();
  // SIGINT through the pidfd, as Python 3.14's interrupt(): a child that
  // does not handle SIGINT dies of it (exitcode -2). No-op once reaped.
  void interrupt();
  // Ordered stop: SIGTERM, wait up to `grace`, then SIGKILL; reaps the child.
  // Bounded in time. No-op if not running.
  void stop(std::chrono::nanoseconds grace = std::chrono::seconds(1));

  // The child's PID once started.
  std::optional<pid_t> pid() const;
  const std::string& name() const noexcept { return name_; }
  void set_name(std::string name);
  bool daemon() const noexcept { return options_.daemon; }
  void set_daemon(bool daemon);  // before start() only

  // A descriptor that becomes readable when the child ends (its pidfd).
  // Valid from start() until close() or destruction.
  int sentinel() const;

  // The child's uncaught exception, once it ended; nullopt otherwise.
  const std::optional<ExceptionInfo>& exception() const noexcept { return exception_; }

  // Releases the pidfd. Afterwards every method but close(), name(),
  // daemon() and exception() throws UsageError ("process object is closed",
  // as Python raises ValueError). Throws UsageError while the child is still
  // running. A second close() does nothing.
  void close();
  // Whether close() was called.
  bool closed() const noexcept { return closed_; }

 private:
  void require_started(const char* operation) const;
  void require_open(const char* operation) const;
  void collect_result();
  void release() noexcept;

  ProcessOptions options_;
  std::string name_;
  int number_ = 0;  // Python's identity number, for the child's own children
  std::unique_ptr<detail::ProcessTarget> target_;
  std::shared_ptr<detail::ChildState> child_;
  std::optional<ExceptionInfo> exception_;
  bool closed_ = false;
  // How the child is started (fork, or the target sent to spawn, a
  // forkserver or a Pool's zygote) is the library's: src/process/launcher.*.
  friend class detail::ProcessLauncher;
};

}  // namespace multiproc
