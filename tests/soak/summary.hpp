// The soak's end: the parent's leak checks and the printed summary.
#pragma once

#include <sys/types.h>

#include <vector>

#include "soak/soak.hpp"

namespace soak {

// The parent's resources over the run.
struct Resources {
  std::vector<int> fds_start{};
  long rss_start_kib = -1;
  long rss_warm_kib = -1;  // after the warm-up (a quarter of the run, at most 30 s)
  long rss_max_kib = -1;   // the most seen after the warm-up
  long rss_end_kib = -1;
  std::vector<long> rss_samples_kib{};  // every 5 s after the warm-up, while running
  std::vector<int> fds_end{};
  Clock::duration duration{};
};

// Descriptors, zombies, children left, RSS growth; `zygote` is the
// forkserver's (it serves the whole run, it is no leftover).
void check_resources(Context& ctx, Resources& res, pid_t zygote);
void print_summary(const Context& ctx, const Resources& res);

}  // namespace soak
