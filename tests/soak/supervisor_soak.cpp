// The supervisor part of the soak.
//
// Rounds: a one_for_one Supervisor runs three permanent function children
// that report their PID on a Queue and then sleep; a chaos step SIGKILLs a
// random live one (through a pidfd). After a random time the round requests a
// stop. Checks: run() returns stop_requested and ok(); each child was
// restarted exactly as many times as it was killed; every reported PID is
// gone afterwards; nothing is left running.
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "multiproc/multiproc.hpp"
#include "multiproc/supervisor.hpp"
#include "soak/soak.hpp"

namespace soak {

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

using Started = std::array<std::int64_t, 2>;  // {child index, PID}

void supervised_child(mp::Queue<Started> started, std::int64_t index) {
  started.put(Started{index, ::getpid()});
  for (;;) std::this_thread::sleep_for(1s);
}

bool alive(pid_t pid) {
  return ::kill(pid, 0) == 0;
}

class SupervisorRound {
 public:
  SupervisorRound(Context& ctx, Rng& rng, int number) : ctx_(ctx), rng_(rng), number_(number) {}

  void run() {
    mp::Supervisor sup({.strategy = mp::Strategy::one_for_one,
                        .max_restarts = 1000,
                        .period = std::chrono::milliseconds(1000)});
    for (std::int64_t i = 0; i < 3; ++i) {
      mp::ChildOptions o{.restart = mp::Restart::permanent,
                         .shutdown_timeout = std::chrono::milliseconds(2000),
                         .process = {.start_method = ctx_.process_method(rng_)}};
      sup.add(mp::ChildSpec::function("child-" + std::to_string(i), std::move(o), supervised_child,
                                      started_, i));
    }
    mp::SupervisorReport report;
    std::thread runner([&] { report = sup.run(); });
    auto until = Clock::now() + std::chrono::milliseconds(2000 + rng_.below(8000));
    while (Clock::now() < until && !ctx_.over()) {
      ctx_.doing("supervisor", "round " + std::to_string(number_) + ": running");
      collect(200ms);
      if (rng_.chance(0.3)) kill_one();
    }
    sup.request_stop();
    runner.join();
    collect(0ms);
    verify(report);
  }

 private:
  void collect(std::chrono::milliseconds wait) {
    auto s = started_.get(wait);
    while (s) {
      current_[(*s)[0]] = static_cast<pid_t>((*s)[1]);
      all_pids_.insert(static_cast<pid_t>((*s)[1]));
      s = started_.try_get();
    }
  }

  void kill_one() {
    if (current_.empty()) return;
    auto it = current_.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(rng_.below(current_.size())));
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, it->second, 0));
    if (fd < 0) return;
    if (::syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0) == 0) {
      ++kills_[it->first];
      ctx_.count("supervisor.children SIGKILLed from outside");
    }
    ::close(fd);
    current_.erase(it);  // its replacement reports itself
  }

  void verify(const mp::SupervisorReport& report) {
    ctx_.check("supervisor: a stop request ends run() in order",
               report.reason == mp::StopReason::stop_requested && report.ok(),
               "round " + std::to_string(number_) + ": " + report.describe());
    for (std::int64_t i = 0; i < 3; ++i) {
      const auto* c = report.find("child-" + std::to_string(i));
      int restarts = c == nullptr ? -1 : c->restarts;
      // The last kill's restart may still be waiting out its backoff when the
      // round requests the stop, which ends that wait without a restart.
      bool once = restarts == kills_[i] || (kills_[i] > 0 && restarts == kills_[i] - 1);
      ctx_.check("supervisor: each kill restarts the child once (the last maybe not: stopped)",
                 once,
                 "round " + std::to_string(number_) + ": child-" + std::to_string(i) + " killed " +
                     std::to_string(kills_[i]) + " times, restarted " + std::to_string(restarts));
    }
    std::string left;
    for (pid_t pid : all_pids_) {
      if (alive(pid)) left += " " + std::to_string(pid);
    }
    ctx_.check("supervisor: no child left after run()", left.empty(),
               "round " + std::to_string(number_) + ": still running:" + left);
    ctx_.count("supervisor.rounds");
  }

  Context& ctx_;
  Rng& rng_;
  int number_;
  mp::Queue<Started> started_;
  std::map<std::int64_t, pid_t> current_;
  std::map<std::int64_t, int> kills_;
  std::set<pid_t> all_pids_;
};

}  // namespace

void run_supervisor_part(Context& ctx) {
  Rng rng = ctx.rng(5);
  int number = 0;
  while (!ctx.over()) SupervisorRound(ctx, rng, number++).run();
  ctx.part_done("supervisor");
}

}  // namespace soak
