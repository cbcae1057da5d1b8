// The parent's leak checks and the summary of what the soak did and checked.
#include "soak/summary.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "helpers/leak_check.hpp"

namespace soak {

using namespace std::chrono_literals;

namespace {

std::string mib(long kib) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f MiB", static_cast<double>(kib) / 1024.0);
  return buffer;
}

// Growth allowed after the warm-up: 8 MiB or 10 %, whichever is more. The
// run's own bookkeeping grows by a bit per task (well under 1 MiB in ten
// minutes); a leak of a few hundred bytes per task or per queue item (tens
// of thousands of each) or of one pool's threads and buffers per epoch
// shows well above it, while malloc's arenas, which are sized by peaks, not
// by time, stay below.
long rss_allowance_kib(long warm_kib) {
  return std::max(8L * 1024, warm_kib / 10);
}

void check_children(Context& ctx, pid_t zygote) {
  // Children end asynchronously after their last handle reaped them or
  // after the storm driver returned: give them a bounded moment.
  auto deadline = Clock::now() + 5s;
  std::vector<multiproc::testing::ChildEntry> left;
  for (;;) {
    left.clear();
    for (const auto& c : multiproc::testing::children_of(::getpid())) {
      if (c.pid != zygote) left.push_back(c);
    }
    if (left.empty() || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(20ms);  // polling /proc, bounded
  }
  std::string zombies, running;
  for (const auto& c : left) {
    std::string one = " " + std::to_string(c.pid) + " (" + c.command + ")";
    (c.state == 'Z' ? zombies : running) += one;
  }
  ctx.check("no zombie children", zombies.empty(), "zombies:" + zombies);
  ctx.check("no child left running (but the forkserver)", running.empty(), "running:" + running);
}

long lowest(const std::vector<long>& v) {
  long low = v.empty() ? 0 : v.front();
  for (long x : v) low = std::min(low, x);
  return low;
}

// While running, the parent's RSS moves with the work in hand (items of
// 1 to 3 MiB decoded and checked, a pool being replaced): peaks come and go.
// A leak raises the floor: the lowest sample of the last third against the
// lowest of the first third.
void check_rss_trend(Context& ctx, const Resources& res) {
  const auto& s = res.rss_samples_kib;
  if (s.size() < 6) return;  // a short run: too few samples for a trend
  auto third = static_cast<std::ptrdiff_t>(s.size() / 3);
  long first = lowest({s.begin(), s.begin() + third});
  long last = lowest({s.end() - third, s.end()});
  ctx.check("the parent's RSS is flat while running (lowest of the last third vs the first)",
            last - first <= rss_allowance_kib(first),
            "lowest RSS " + mib(first) + " in the first third, " + mib(last) + " in the last");
}

}  // namespace

void check_resources(Context& ctx, Resources& res, pid_t zygote) {
  check_children(ctx, zygote);
  res.fds_end = open_fds();
  std::string extra;
  for (int fd : res.fds_end) {
    if (std::find(res.fds_start.begin(), res.fds_start.end(), fd) == res.fds_start.end())
      extra += " " + describe_fd(fd);
  }
  ctx.check("no descriptor leaked (parent, at the end vs at the start)", extra.empty(),
            "new descriptors:" + extra);
  res.rss_end_kib = rss_kib();
  if (res.rss_warm_kib < 0) res.rss_warm_kib = res.rss_start_kib;
  if (!ctx.options().rss_check) return;  // --no-rss-check: measured, not checked
  check_rss_trend(ctx, res);
  long growth = res.rss_end_kib - res.rss_warm_kib;
  ctx.check(
      "the parent's RSS is flat after the warm-up (growth under max(8 MiB, 10 %))",
      growth <= rss_allowance_kib(res.rss_warm_kib),
      "RSS after the warm-up " + mib(res.rss_warm_kib) + ", at the end " + mib(res.rss_end_kib));
}

void print_summary(const Context& ctx, const Resources& res) {
  auto seconds = std::chrono::duration<double>(res.duration).count();
  std::printf("\n=== soak summary (seed %llu, start method %s) ===\n",
              static_cast<unsigned long long>(ctx.options().seed),
              ctx.options().start_method.c_str());
  std::printf("duration: %.1f s (asked: %.0f s)\n", seconds, ctx.options().seconds);
  std::string group;
  for (const auto& [name, n] : ctx.counters()) {
    auto dot = name.find('.');
    std::string g = name.substr(0, dot);
    if (g != group) {
      std::printf("%s:\n", g.c_str());
      group = g;
    }
    std::printf("  %-62s %ld\n", name.substr(dot + 1).c_str(), n);
  }
  std::printf("parent:\n");
  std::printf("  RSS: start %s, after warm-up %s, max after warm-up %s, end %s\n",
              mib(res.rss_start_kib).c_str(), mib(res.rss_warm_kib).c_str(),
              mib(res.rss_max_kib).c_str(), mib(res.rss_end_kib).c_str());
  if (!res.rss_samples_kib.empty()) {
    std::printf("  RSS every 5 s after warm-up:");
    for (long kib : res.rss_samples_kib) std::printf(" %.1f", static_cast<double>(kib) / 1024.0);
    std::printf(" MiB\n");
  }
  std::printf("  descriptors: start %zu, end %zu\n", res.fds_start.size(), res.fds_end.size());
  std::printf("checks:\n");
  for (const auto& [name, t] : ctx.checks()) {
    if (t.failed == 0) {
      std::printf("  PASS  %s (%ld)\n", name.c_str(), t.made);
    } else {
      std::printf("  FAIL  %s (%ld of %ld failed)\n", name.c_str(), t.failed, t.made);
      for (const auto& f : t.failures) std::printf("          %s\n", f.c_str());
    }
  }
  std::printf("result: %s\n", ctx.all_passed() ? "PASS" : "FAIL");
  std::fflush(stdout);
}

}  // namespace soak
