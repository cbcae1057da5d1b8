// The soak test's shared pieces: options, the random source, the run's
// context (deadline, tallies, checks, heartbeats for the watchdog).
//
// Each part (pool_soak.cpp, queue_soak.cpp, storm.cpp, and the supervisor
// part once the Supervisor lands) is one function `run_X_part(Context&)`
// that runs on its own thread until ctx.over(), counts what it did with
// ctx.count(), and records what it checked with ctx.check(). soak.cpp starts
// them, watches them (watchdog), then checks the parent for leaks and prints
// the summary.
//
// Thread safety: every Context member may be called from any thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "multiproc/start_method.hpp"

namespace soak {

using Clock = std::chrono::steady_clock;

struct Options {
  double seconds = 600;
  std::uint64_t seed = 0;
  std::string start_method = "mixed";  // fork | spawn | forkserver | mixed
  bool storm_child = false;            // run as the target of a signal storm
  bool no_pool = false, no_queue = false, no_storm = false, no_supervisor = false;
  // The queue part's kills (to narrow down a failure): both by default.
  bool kill_producers = true, kill_relays = true;
  // Sanitizer builds: their allocator keeps freed memory (quarantine).
  bool rss_check = true;
};

// A seeded random source; one per thread (not thread-safe).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  // In [0, n); 0 when n is 0.
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : engine_() % n; }
  // In [lo, hi].
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1)));
  }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(engine_) < p; }
  std::uint64_t next() { return engine_(); }

 private:
  std::mt19937_64 engine_;
};

// One kind of check, made once or many times (once per round, say).
struct CheckTally {
  long made = 0;
  long failed = 0;
  std::vector<std::string> failures{};  // the first few
};

class Context {
 public:
  explicit Context(Options options);

  const Options& options() const noexcept { return options_; }
  Clock::time_point started() const noexcept { return started_; }
  Clock::time_point end() const noexcept { return end_; }
  // The run's time is up (or the run was cut short).
  bool over() const noexcept { return Clock::now() >= end_ || cut_.load(); }
  void cut_short() noexcept { cut_.store(true); }

  // A random source for one thread of one part, derived from the seed.
  Rng rng(std::uint64_t stream) const {
    return Rng(options_.seed * 0x9E3779B97F4A7C15ULL + stream);
  }

  // The start method for a Process (the parent is multi-threaded: fork is
  // never used for a Process; with --start-method fork they use forkserver).
  multiproc::StartMethod process_method(Rng& rng) const;
  // The start method for the pool of epoch `epoch` (fork only for the first
  // pool, which main creates while the process has one thread).
  multiproc::StartMethod pool_method(Rng& rng, int epoch) const;

  // Counters for the summary: "pool.kind.ok" and the like.
  void count(const std::string& what, long n = 1);
  long counted(const std::string& what) const;
  std::map<std::string, long> counters() const;

  // A check; `detail` says what went wrong when it failed.
  void check(const std::string& name, bool passed, const std::string& detail = {});
  std::map<std::string, CheckTally> checks() const;
  bool all_passed() const;

  // The watchdog's view: each part says what it is doing now.
  void doing(const std::string& part, const std::string& what);
  void part_done(const std::string& part);
  // Whether every one of `parts` said it is done.
  bool parts_done(const std::vector<std::string>& parts) const;
  // Parts that said nothing for longer than `quiet`, with what they said last.
  std::vector<std::string> stalled(std::chrono::seconds quiet) const;
  std::vector<std::string> activity() const;

 private:
  struct Activity {
    std::string what{};
    Clock::time_point at{};
    bool done = false;
  };

  Options options_;
  Clock::time_point started_;
  Clock::time_point end_;
  std::atomic<bool> cut_{false};
  mutable std::mutex mutex_;
  std::map<std::string, long> counters_;
  std::map<std::string, CheckTally> checks_;
  std::map<std::string, Activity> activity_;
};

// The parts. Each runs until ctx.over() and returns when its last round ended.
// The pool part's first pool is made by main while the process still has
// one thread (a fork pool needs that); later pools are made by the part.
struct PoolEpoch;
std::shared_ptr<PoolEpoch> make_pool_epoch(Context& ctx, Rng& rng, int epoch);
void run_pool_part(Context& ctx, std::shared_ptr<PoolEpoch> first);
void run_queue_part(Context& ctx);
void run_storm_part(Context& ctx, const std::string& self);
void run_supervisor_part(Context& ctx);

// `soak --storm-child`: the target of one storm (storm.cpp).
int storm_child_main(const Options& options);

// The parent's resources, for the leak checks (leaks.cpp).
long rss_kib();
std::vector<int> open_fds();
std::string describe_fd(int fd);
// Children of a process: multiproc::testing::children_of (helpers/leak_check.hpp).
std::vector<std::string> shm_entries(const std::string& prefix);

// The name prefix of the named segments this run creates in /dev/shm.
std::string shm_prefix();

}  // namespace soak
