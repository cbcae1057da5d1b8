// multiproc/supervisor.hpp — Erlang/OTP-style supervision of long-running
// subtasks: start them, restart them by policy, stop them all cleanly.
//
//   void logger() { for (;;) { std::puts("tick"); sleep(1); } }
//
//   mp::SignalBridge bridge;                                   // SIGINT, SIGTERM, SIGHUP
//   mp::Supervisor sup({.strategy = mp::Strategy::one_for_one,
//                       .max_restarts = 3, .period = 5s});
//   sup.add(mp::ChildSpec::function("logger", {.restart = mp::Restart::permanent}, logger));
//   sup.add(mp::ChildSpec::command("web", {.shutdown_timeout = 2s},
//                                  {.argv = {"python3", "-m", "http.server"}}));
//   mp::SupervisorReport report = sup.run(bridge.token());    // until stopped
//   std::cout << report;
//   return report.exit_code();
//
// Children are functions (started as an mp::Process with the chosen start
// method, SIGINT ignored so that a terminal's Ctrl-C reaches only the parent)
// or external commands (fork + execve, each in its own process group). run()
// starts them in order, restarts them per their Restart type and the
// Strategy, and ends on a stop request (its stop_token, request_stop(), a
// child's GroupStop::request), when a significant child ends (AutoShutdown),
// or when restarts are too frequent (max_restarts within period). It then
// stops every child in reverse start order — SIGTERM, then SIGKILL at the
// child's shutdown_timeout — and returns a SupervisorReport.
//
// Restart table (what "restart" means per Restart type and how the child ended):
//
//                  exit 0   exit != 0   SIGTERM   other signal (SIGKILL, SIGSEGV...)
//   permanent      yes      yes         yes       yes
//   transient      no       yes         no        yes
//   temporary      no       no          no        no
//
// A start that fails (an exception from Process::start, execve failing) counts
// as a crash (exit != 0). A child that ends while the supervisor is stopping is
// never restarted. See docs/supervisor.md for strategies, intensity, backoff.
//
// Thread safety: add() and run() from one thread; request_stop() and
// group_stop() from any thread. run() must be called from a thread that lives
// as long as the children: a command's death signal (PR_SET_PDEATHSIG) follows
// the thread that forked it. run() stops every child before it returns, so
// calling it from any thread is fine. Fork safety: with the fork start method,
// a function child is refused in a multi-threaded program (use forkserver or
// spawn, see process.hpp); commands are always started safely (_Fork, only
// async-signal-safe calls before execve). Destruction: the supervisor must not
// be running (run() has returned); it closes its descriptors.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "multiproc/detail/process_target.hpp"
#include "multiproc/group_stop.hpp"
#include "multiproc/process.hpp"
#include "multiproc/supervisor_report.hpp"

namespace multiproc {

// When a child that ended is started again (the table above).
enum class Restart { permanent, transient, temporary };

// Which children restart with a failed one.
enum class Strategy {
  one_for_one,   // only the failed child
  one_for_all,   // all: the others are stopped (reverse order) and reaped, then all start in order
  rest_for_one,  // the failed child and those started after it
};

// When the end of a significant child ends the whole group (Erlang's).
enum class AutoShutdown { never, any_significant, all_significant };

// An external program. argv[0] is looked up in PATH when it has no '/'.
struct Command {
  std::vector<std::string> argv{};
  // "NAME=value" entries; unset: the supervisor's environment. Either way
  // MULTIPROC_GROUP_STOP_FD=3 is added.
  std::optional<std::vector<std::string>> env{};
  // Working directory; unset: the supervisor's.
  std::optional<std::string> cwd{};
};

struct ChildOptions {
  Restart restart = Restart::permanent;
  // On stop: SIGTERM, then SIGKILL after this. Zero: SIGKILL at once
  // (Erlang's brutal_kill).
  std::chrono::milliseconds shutdown_timeout{5000};
  // Its end may end the group (SupervisorOptions::auto_shutdown). Only for
  // transient and temporary children (UsageError otherwise).
  bool significant = false;
  // The child's whole process tree ends with it (multiproc/containment.hpp):
  // stopping or restarting it, and the supervisor's own death (SIGKILL
  // included), end everything it started, setsid'd or double-forked. For a
  // function child it sets process.contain.
  bool contain = true;
  // Function children only: how the Process starts (name, start method...).
  // The supervisor sets parent_decides_signals; die_with_parent stays as given (true by
  // default).
  ProcessOptions process{};
};

class ChildSpec {
 public:
  // Both kinds take the same arguments in the same order: the name, the
  // options (optional: {} when left out), then what to run.
  //
  // A function child: `f(args...)` in a child process, started anew at each
  // restart from fresh copies of `f` and `args` (so they must be copyable;
  // shared objects such as GroupStop, Event or Queue are).
  template <class F, class... Args>
  requires detail::Target<F, Args...>
  static ChildSpec function(std::string name, ChildOptions options, F&& f, Args&&... args) {
    ChildSpec spec(std::move(name), std::move(options));
    auto bound = std::make_shared<std::tuple<std::decay_t<F>, std::decay_t<Args>...>>(
        std::forward<F>(f), std::forward<Args>(args)...);
    spec.make_target_ = [bound] {
      return std::apply([](const auto&... fa) { return detail::make_target(fa...); }, *bound);
    };
    return spec;
  }
  template <class F, class... Args>
  requires detail::Target<F, Args...> &&
      (!std::is_same_v<std::decay_t<F>, ChildOptions>)static ChildSpec
      function(std::string name, F&& f, Args&&... args) {
    return function(std::move(name), ChildOptions{}, std::forward<F>(f),
                    std::forward<Args>(args)...);
  }
  // An external command (UsageError if argv is empty).
  static ChildSpec command(std::string name, ChildOptions options, Command command);
  static ChildSpec command(std::string name, Command command) {
    return ChildSpec::command(std::move(name), ChildOptions{}, std::move(command));
  }

  const std::string& name() const noexcept { return name_; }
  const ChildOptions& options() const noexcept { return options_; }
  bool is_command() const noexcept { return command_.has_value(); }
  const std::optional<Command>& command() const noexcept { return command_; }
  // A fresh target for one start (function children).
  std::unique_ptr<detail::ProcessTarget> make_target() const { return make_target_(); }

 private:
  ChildSpec(std::string name, ChildOptions options);
  std::string name_;
  ChildOptions options_;
  std::function<std::unique_ptr<detail::ProcessTarget>()> make_target_;
  std::optional<Command> command_;
};

// Restart delays in a crash loop: the first restart is immediate, then each
// one waits `initial`, doubling up to `max`. A child that ran at least
// `reset_after` before it ended restarts at once again.
struct Backoff {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{5000};
  std::chrono::milliseconds reset_after{10000};
};

struct SupervisorOptions {
  Strategy strategy = Strategy::one_for_one;
  // More than max_restarts restarts within `period` (a sliding window) stop
  // the group with StopReason::intensity_exceeded.
  int max_restarts = 3;
  std::chrono::milliseconds period{5000};
  Backoff backoff{};
  AutoShutdown auto_shutdown = AutoShutdown::never;
};

class Supervisor {
 public:
  explicit Supervisor(SupervisorOptions options = {});
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Adds a child, started after those added before. UsageError for a
  // duplicate name, significant with Restart::permanent, or while running.
  void add(ChildSpec spec);

  // Runs the group until it stops (see the top of this file); then every
  // child has been stopped and reaped. UsageError if already running.
  SupervisorReport run(std::stop_token stop = {});

  // Ends run() as its stop_token would. Any thread; async-signal-safe
  // (a write to an eventfd). Before run(), the next run() stops at once.
  void request_stop() noexcept;

  // A handle children use to ask for a stop of the group (group_stop.hpp).
  GroupStop group_stop() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace multiproc
