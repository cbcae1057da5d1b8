#include "multiproc/detail/option_checks.hpp"

#include <sys/resource.h>

#include <cstdint>
#include <string>

#include "multiproc/error.hpp"
#include "multiproc/pool.hpp"
#include "sys/proc_fs.hpp"

namespace multiproc::detail {
namespace {

// Above this, a size is a negative number converted to std::size_t, not a
// count anyone meant.
constexpr std::size_t kNegativeInDisguise = std::size_t{1} << 48;

// The most processes this user may have, or 0 when unlimited.
std::size_t nproc_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NPROC, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return 0;
  return static_cast<std::size_t>(r.rlim_cur);
}

[[noreturn]] void refuse(const std::string& what) {
  throw UsageError("Pool: " + what);
}

}  // namespace

void check_pool_options(const PoolOptions& options) {
  const std::size_t n = options.processes;
  if (n >= kNegativeInDisguise) {
    refuse("processes = " + std::to_string(n) +
           " is a negative number converted to std::size_t; use 0 for one worker per CPU");
  }
  if (std::size_t limit = nproc_limit(); limit != 0 && n > limit) {
    refuse("processes = " + std::to_string(n) + " exceeds this user's process limit (" +
           std::to_string(limit) + ", RLIMIT_NPROC)");
  }
  if (std::size_t limit = sys::proc::pid_max(); n > limit) {
    refuse("processes = " + std::to_string(n) + " exceeds the kernel's PID limit (" +
           std::to_string(limit) + ", /proc/sys/kernel/pid_max)");
  }
  if (options.maxtasksperchild >= kNegativeInDisguise) {
    refuse("maxtasksperchild = " + std::to_string(options.maxtasksperchild) +
           " is a negative number converted to std::size_t; use 0 for no limit");
  }
  if (options.max_memory_per_child >= (std::size_t{1} << 62)) {
    refuse("max_memory_per_child = " + std::to_string(options.max_memory_per_child) +
           " is a negative number converted to std::size_t; use 0 for no limit");
  }
  if (options.task_timeout && options.task_timeout->count() <= 0) {
    refuse("task_timeout must be positive (leave it unset for no limit), not " +
           std::to_string(options.task_timeout->count()) + " ns");
  }
}

void check_chunksize(std::size_t chunksize, const char* operation) {
  if (chunksize >= kNegativeInDisguise) {
    throw UsageError(std::string(operation) + ": chunksize = " + std::to_string(chunksize) +
                     " is a negative number converted to std::size_t; use 0 for automatic");
  }
}

}  // namespace multiproc::detail
