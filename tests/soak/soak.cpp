// soak: minutes of random work against a Pool, Queues and signal storms,
// with crashes, hangs, SIGKILLs from outside; then checks that every task
// and item ended exactly once and that the parent leaked nothing. `make soak`
// runs it for SOAK_SECONDS (600); ctest's soak_smoke for 5 s.
//
//   soak [--seconds N] [--seed S] [--start-method fork|spawn|forkserver|mixed]
//        [--no-pool] [--no-queue] [--no-storm] [--no-supervisor]
//        [--no-producer-kills] [--no-relay-kills] [--no-rss-check]
//
// The seed is printed first: `--seed S` replays the same random choices
// (the timing of a multi-process run is not replayable, the choices are).
// Exit 0 only if every check passed; 1 if one failed; 3 if the watchdog
// found a part stuck (it prints what each part was doing).
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "multiproc/multiproc.hpp"
#include "soak/soak.hpp"
#include "soak/summary.hpp"
#include "start/forkserver.hpp"

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(
      stderr,
      "soak: %s\nusage: soak [--seconds N] [--seed S] "
      "[--start-method fork|spawn|forkserver|mixed] [--no-pool] [--no-queue] "
      "[--no-storm] [--no-supervisor] [--no-producer-kills] [--no-relay-kills] [--no-rss-check]\n",
      why.c_str());
  std::exit(2);
}

soak::Options parse(int argc, char** argv) {
  soak::Options o;
  o.seed = std::random_device()() ^ static_cast<std::uint64_t>(::getpid());
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&] {
      if (i + 1 >= argc) usage("missing value after " + a);
      return std::string(argv[++i]);
    };
    if (a == "--seconds")
      o.seconds = std::stod(value());
    else if (a == "--seed")
      o.seed = std::stoull(value());
    else if (a == "--start-method")
      o.start_method = value();
    else if (a == "--storm-child")
      o.storm_child = true;
    else if (a == "--no-pool")
      o.no_pool = true;
    else if (a == "--no-queue")
      o.no_queue = true;
    else if (a == "--no-storm")
      o.no_storm = true;
    else if (a == "--no-supervisor")
      o.no_supervisor = true;
    else if (a == "--no-producer-kills")
      o.kill_producers = false;
    else if (a == "--no-relay-kills")
      o.kill_relays = false;
    else if (a == "--no-rss-check")
      o.rss_check = false;
    else
      usage("unknown option " + a);
  }
  const std::string& m = o.start_method;
  if (m != "fork" && m != "spawn" && m != "forkserver" && m != "mixed")
    usage("unknown start method " + m);
  if (o.seconds <= 0) usage("--seconds must be positive");
  return o;
}

std::string self_path() {
  char buffer[4096] = {};
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

// Runs a part on its own thread; an exception out of it is a failed check
// and ends the run early.
std::thread start_part(soak::Context& ctx, const std::string& name, std::function<void()> body) {
  ctx.doing(name, "starting");
  return std::thread([&ctx, name, body = std::move(body)] {
    try {
      body();
    } catch (const std::exception& e) {
      ctx.check("no part ends with an exception", false, name + ": " + e.what());
      ctx.cut_short();
    }
    ctx.part_done(name);
  });
}

// Watches the parts until all are done: one stuck (silent for 120 s) or
// the whole run past its end by 300 s ends the process with what was pending.
void watchdog(soak::Context& ctx, soak::Resources& res, const std::vector<std::string>& parts) {
  auto warm_at =
      ctx.started() + std::chrono::duration_cast<soak::Clock::duration>(
                          std::chrono::duration<double>(std::min(30.0, ctx.options().seconds / 4)));
  auto hard_end = ctx.end() + 300s;
  auto next_sample = warm_at;
  for (;;) {
    auto now = soak::Clock::now();
    long rss = soak::rss_kib();
    if (now >= warm_at && res.rss_warm_kib < 0) res.rss_warm_kib = rss;
    if (res.rss_warm_kib >= 0) res.rss_max_kib = std::max(res.rss_max_kib, rss);
    if (now >= next_sample && !ctx.over()) {
      res.rss_samples_kib.push_back(rss);
      next_sample += 5s;
    }
    if (ctx.parts_done(parts)) return;
    auto stuck = ctx.stalled(120s);
    if (!stuck.empty() || now >= hard_end) {
      std::fprintf(stderr, "soak: WATCHDOG: %s; seed %llu. What each part was doing:\n",
                   stuck.empty() ? "the run is 300 s past its end" : "a part is stuck for 120 s",
                   static_cast<unsigned long long>(ctx.options().seed));
      for (const auto& a : ctx.activity()) std::fprintf(stderr, "  %s\n", a.c_str());
      std::fflush(stderr);
      std::_Exit(3);  // children die with us (their parent-death signal)
    }
    std::this_thread::sleep_for(200ms);  // the watchdog's sampling period
  }
}

}  // namespace

int main(int argc, char** argv) {
  mp::init(argc, argv, {.forkserver = true});
  soak::Options options = parse(argc, argv);
  if (options.storm_child) return soak::storm_child_main(options);

  // Tasks crash on purpose: no core files. Large allocations always come
  // from mmap and go back when freed, so that the RSS measures what is kept
  // (glibc's dynamic threshold would otherwise keep freed multi-MiB items).
  rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  ::mallopt(M_MMAP_THRESHOLD, 256 * 1024);

  std::printf("soak: seed %llu, %.0f s, start method %s (replay: --seed %llu --start-method %s)\n",
              static_cast<unsigned long long>(options.seed), options.seconds,
              options.start_method.c_str(), static_cast<unsigned long long>(options.seed),
              options.start_method.c_str());
  std::fflush(stdout);

  // The containment session (a descriptor held for the process's life, as
  // the forkserver's) exists before the descriptors are counted: the pool
  // part's workers are contained.
  (void)mp::containment_mechanism();
  soak::Resources res;
  res.fds_start = soak::open_fds();
  res.rss_start_kib = soak::rss_kib();
  soak::Context ctx(options);

  // The first pool, while this process still has one thread (a fork pool).
  std::shared_ptr<soak::PoolEpoch> first;
  if (!options.no_pool) {
    soak::Rng rng = ctx.rng(0);
    first = soak::make_pool_epoch(ctx, rng, 0);
  }

  std::vector<std::string> parts;
  std::vector<std::thread> threads;
  if (!options.no_pool) {
    parts.emplace_back("pool");
    threads.push_back(start_part(ctx, "pool", [&] { soak::run_pool_part(ctx, std::move(first)); }));
  }
  if (!options.no_queue) {
    parts.emplace_back("queue");
    threads.push_back(start_part(ctx, "queue", [&] { soak::run_queue_part(ctx); }));
  }
  if (!options.no_storm) {
    parts.emplace_back("storm");
    std::string self = self_path();
    threads.push_back(start_part(ctx, "storm", [&ctx, self] { soak::run_storm_part(ctx, self); }));
  }
  if (!options.no_supervisor) {
    parts.emplace_back("supervisor");
    threads.push_back(start_part(ctx, "supervisor", [&] { soak::run_supervisor_part(ctx); }));
  }

  watchdog(ctx, res, parts);
  for (auto& t : threads) t.join();
  res.duration = soak::Clock::now() - ctx.started();

  soak::check_resources(ctx, res, mp::detail::forkserver_pid().value_or(0));
  soak::print_summary(ctx, res);
  return ctx.all_passed() ? 0 : 1;
}
