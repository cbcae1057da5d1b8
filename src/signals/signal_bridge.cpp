#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <string>
#include <thread>

#include "multiproc/error.hpp"
#include "multiproc/exit_status.hpp"
#include "multiproc/signals.hpp"
#include "signals/bridge_state.hpp"
#include "signals/kill_list.hpp"
#include "sys/signal_block.hpp"

namespace multiproc {
namespace {

constexpr int kMaxSignal = 65;
constexpr std::size_t kLineMax = 256;

struct Line {
  std::array<char, kLineMax> text{};
  std::size_t length = 0;
};

// Read by the handler, so plain data set up before the handlers are
// installed, and atomics for what changes after.
struct Global {
  std::atomic<bool> installed{false};
  // A bridge that saw a signal leaves its handler behind when it is
  // destroyed (see ~SignalBridge); then an escalation exits with the code the
  // program is returning, 128 + the first signal.
  std::atomic<bool> left_behind{false};
  std::atomic<bool> watcher_running{false};
  std::atomic<int> wake_fd{-1};
  std::atomic<int> first_signal{0};
  std::atomic<long> count{0};
  std::atomic<std::int64_t> last_ns{0};
  bool escalate = true;
  int escalation_exit_code = 0;
  std::int64_t window_ns = 0;
  std::array<Line, kMaxSignal> first_line{};
  std::array<Line, kMaxSignal> second_line{};
  std::array<struct sigaction, kMaxSignal> previous{};
  std::array<bool, kMaxSignal> chosen{};
};
Global g;

std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);  // async-signal-safe
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void write_line(const Line& line) noexcept {
  if (line.length != 0) (void)!::write(STDERR_FILENO, line.text.data(), line.length);
}

[[noreturn]] void escalate(int signo) noexcept {
  write_line(g.second_line[static_cast<std::size_t>(signo)]);
  detail::kill_list_kill_all();
  int by = g.left_behind.load() ? g.first_signal.load() : signo;
  _exit(g.escalation_exit_code != 0 ? g.escalation_exit_code : 128 + by);
}

// Async-signal-safe: atomics, clock_gettime, write, pidfd_send_signal, kill,
// _exit.
void on_signal(int signo) {
  int saved_errno = errno;
  std::int64_t now = monotonic_ns();
  std::int64_t previous = g.last_ns.exchange(now);
  g.count.fetch_add(1);
  int none = 0;
  if (g.first_signal.compare_exchange_strong(none, signo)) {
    write_line(g.first_line[static_cast<std::size_t>(signo)]);
    char wake = 1;
    int fd = g.wake_fd.load();
    if (fd >= 0) (void)!::write(fd, &wake, 1);
  } else if (g.escalate && now - previous >= g.window_ns) {
    escalate(signo);
  }
  errno = saved_errno;
}

struct sigaction handler_action() noexcept {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigfillset(&action.sa_mask);  // one handler at a time: they share the burst clock
  action.sa_flags = SA_RESTART;
  return action;
}

Line format_line(const std::string& pattern, int signo) {
  std::string text = pattern;
  auto replace = [&](const std::string& key, const std::string& value) {
    for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size()))
      text.replace(at, key.size(), value);
  };
  replace("{signal}", signal_name(signo));
  replace("{program}", program_invocation_short_name);
  Line line;
  if (pattern.empty()) return line;
  text = text.substr(0, kLineMax - 1) + "\n";
  text.copy(line.text.data(), text.size());
  line.length = text.size();
  return line;
}

void check_signal(int signo) {
  bool fault =
      signo == SIGSEGV || signo == SIGBUS || signo == SIGFPE || signo == SIGILL || signo == SIGTRAP;
  if (signo <= 0 || signo >= kMaxSignal || signo == SIGKILL || signo == SIGSTOP || fault) {
    throw UsageError("SignalBridge: signal " + std::to_string(signo) +
                     " cannot be bridged (not SIGKILL, SIGSTOP or a fault signal)");
  }
}

}  // namespace

struct SignalBridge::State {
  std::stop_source source;
  int read_fd = -1;
  int write_fd = -1;
  std::thread watcher;
  std::vector<int> signals;

  // Runs with every signal blocked: no handler ever runs on this thread.
  void watch() {
    for (;;) {
      char byte = 0;
      ssize_t n = ::read(read_fd, &byte, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || byte == 0) return;
      source.request_stop();
    }
  }
};

SignalBridge::SignalBridge(SignalBridgeOptions options) : state_(std::make_unique<State>()) {
  for (int signo : options.signals) check_signal(signo);
  if (g.installed.exchange(true)) {
    throw UsageError("SignalBridge: a bridge is already installed in this process");
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    int err = errno;
    g.installed = false;
    throw SystemError("SignalBridge: pipe2", err);
  }
  state_->read_fd = fds[0];
  state_->write_fd = fds[1];
  // The handler must never block: a full pipe means a wake-up is pending.
  ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
  state_->signals = options.signals;

  g.first_signal = 0;
  g.count = 0;
  g.last_ns = 0;
  g.escalate = options.escalate;
  g.escalation_exit_code = options.escalation_exit_code;
  g.window_ns = std::chrono::nanoseconds(options.repeat_window).count();
  g.chosen = {};
  for (int signo : options.signals) {
    auto i = static_cast<std::size_t>(signo);
    g.chosen[i] = true;
    g.first_line[i] = format_line(options.message, signo);
    g.second_line[i] = format_line("{program}: {signal} again: killing every child", signo);
  }
  g.wake_fd = fds[1];

  try {
    // The watcher inherits this mask: no handler ever runs on it.
    sys::BlockAllSignals blocked;
    state_->watcher = std::thread([s = state_.get()] { s->watch(); });
  } catch (...) {
    g.wake_fd = -1;
    ::close(fds[0]);
    ::close(fds[1]);
    g.installed = false;
    throw;
  }
  g.watcher_running = true;

  struct sigaction action = handler_action();
  for (int signo : options.signals) {
    struct sigaction before {};
    ::sigaction(signo, &action, &before);
    // Over a handler an earlier bridge left behind, keep what was there
    // before that bridge.
    if (!g.left_behind.load() || before.sa_handler != on_signal) {
      g.previous[static_cast<std::size_t>(signo)] = before;
    }
  }
  g.left_behind = false;
  // A signal blocked by the caller would never reach the handler.
  sigset_t ours;
  sigemptyset(&ours);
  for (int signo : options.signals) sigaddset(&ours, signo);
  pthread_sigmask(SIG_UNBLOCK, &ours, nullptr);
}

SignalBridge::~SignalBridge() {
  // Once a signal arrived, the program is on its way out (the idiom is
  // `return bridge.exit_code();`), and a burst may still be arriving: the
  // previous disposition, usually the default, would let the next signal of
  // the burst kill the process during static destructors or exit, with
  // another status than exit_code(). So the handler stays: later signals are
  // counted, and one after a pause escalates as before, exiting with
  // exit_code(). Without a signal, the previous dispositions come back.
  if (g.first_signal.load() != 0) {
    g.left_behind = true;
  } else {
    for (int signo : state_->signals) {
      ::sigaction(signo, &g.previous[static_cast<std::size_t>(signo)], nullptr);
    }
    // A first signal that came in while the dispositions were put back:
    // keep the handler for it after all.
    if (g.first_signal.load() != 0) {
      g.left_behind = true;
      struct sigaction action = handler_action();
      for (int signo : state_->signals) ::sigaction(signo, &action, nullptr);
    }
  }
  // A handler already running on another thread may still write to the pipe;
  // the descriptor stays open until the watcher has ended.
  char stop = 0;
  while (::write(state_->write_fd, &stop, 1) < 0 && errno == EINTR) {
  }
  state_->watcher.join();
  g.watcher_running = false;
  g.wake_fd = -1;
  ::close(state_->read_fd);
  ::close(state_->write_fd);
  g.installed = false;
}

std::stop_token SignalBridge::token() const noexcept {
  return state_->source.get_token();
}
bool SignalBridge::stop_requested() const noexcept {
  return state_->source.stop_requested();
}
void SignalBridge::request_stop() noexcept {
  state_->source.request_stop();
}
int SignalBridge::signal() const noexcept {
  return g.first_signal.load();
}
long SignalBridge::count() const noexcept {
  return g.count.load();
}
int SignalBridge::exit_code() const noexcept {
  int signo = signal();
  return signo == 0 ? 0 : 128 + signo;
}

namespace detail {
int quiet_bridge_threads() noexcept {
  return g.watcher_running.load() ? 1 : 0;
}
void forget_signal_bridge_after_fork() noexcept {
  g.watcher_running = false;
  g.wake_fd = -1;
  g.installed = false;
}
}  // namespace detail

}  // namespace multiproc
