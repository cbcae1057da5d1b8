// multiproc/signals.hpp — turning SIGINT, SIGTERM, SIGHUP into a stop request.
//
//   int main(int argc, char** argv) {
//     mp::init(argc, argv);
//     mp::SignalBridge bridge;                  // SIGINT, SIGTERM, SIGHUP
//     mp::Pool pool;
//     auto result = pool.map_async(work, mp::range(10));
//     try {
//       print(result.get(bridge.token()));      // every blocking call takes it
//     } catch (const mp::Interrupted&) {
//       pool.terminate();
//       return bridge.exit_code();              // 128 + the signal: 130 for Ctrl-C
//     }
//   }
//
// The first of the chosen signals:
//   - writes one line to stderr (SignalBridgeOptions::message), from the
//     handler itself, so it appears even when every thread is busy;
//   - requests a stop on the bridge's std::stop_source. A library thread
//     does that: the handler only records the signal and writes a byte to a
//     pipe (async-signal-safe). Callbacks registered with std::stop_callback
//     run on that thread.
// A second signal, later than `repeat_window` after the one before it,
// escalates (unless `escalate` is false): the handler SIGKILLs every child
// of this process that the library started (and the process groups of
// supervised commands) and leaves with _exit(128 + signo), or
// `escalation_exit_code`. Signals closer together than `repeat_window` are one
// burst: a storm of 1,000 signals is one stop request, while a person's second
// Ctrl-C (hundreds of milliseconds later) kills at once.
//
// One bridge at a time per process (UsageError otherwise). The destructor
// puts the previous dispositions back, unless a signal arrived: then the
// handler stays installed, so that the rest of a burst cannot kill the
// program during `return bridge.exit_code()`, static destructors or exit
// (a later signal after a pause escalates, exiting with exit_code()).
// Children never inherit the handlers:
// every start method resets dispositions and the signal mask in the child.
// Pool workers ignore SIGINT and SIGHUP and obey SIGTERM only from their
// parent, so a Ctrl-C or a `kill -TERM -PGID` (sent to the whole process
// group) reaches only the parent, which decides; see
// docs/signals.md for what each signal does where.
//
// The bridge's thread does not make Process::start() refuse to fork: it
// holds no lock across its wait and the child does not keep it.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <csignal>

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

namespace multiproc {

struct SignalBridgeOptions {
  // The signals that request the stop. Not SIGKILL, SIGSTOP, or a signal the
  // kernel sends for a fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP).
  std::vector<int> signals{SIGINT, SIGTERM, SIGHUP};
  // The first signal's line on stderr. "{signal}" becomes its name (SIGINT)
  // and "{program}" the program's name. Empty: nothing is written.
  std::string message = "{program}: {signal}: stopping (send it again to stop at once)";
  // A second signal kills every child and exits at once.
  bool escalate = true;
  // The exit code of an escalation; 0 means 128 + the signal's number.
  int escalation_exit_code = 0;
  // Signals closer than this to the previous one are the same burst.
  std::chrono::milliseconds repeat_window{100};
};

class SignalBridge {
 public:
  explicit SignalBridge(SignalBridgeOptions options = {});
  ~SignalBridge();
  SignalBridge(const SignalBridge&) = delete;
  SignalBridge& operator=(const SignalBridge&) = delete;

  // Requested once one of the signals arrived (or request_stop() was called).
  std::stop_token token() const noexcept;
  bool stop_requested() const noexcept;
  // Requests the stop without a signal: the program decided to end. A signal
  // arriving afterwards is then the first signal (its message, no escalation).
  void request_stop() noexcept;

  // The first signal that arrived; 0 if none did.
  int signal() const noexcept;
  // How many of the chosen signals arrived.
  long count() const noexcept;
  // 128 + signal(), as a shell reports a death by that signal; 0 if no signal
  // arrived.
  int exit_code() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace multiproc
