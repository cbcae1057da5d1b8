// Internal: the checks that turn an absurd numeric option into a UsageError
// before anything is forked or allocated (a negative int converted to
// std::size_t, a pool larger than the process limit). Thread-safe.
#pragma once

#include <cstddef>

namespace multiproc {
struct PoolOptions;
}

namespace multiproc::detail {

// Throws UsageError when `options` cannot make a pool: more processes than
// this user may run (RLIMIT_NPROC) or than the kernel has PIDs for, a
// maxtasksperchild or max_memory_per_child that is a negative number in
// disguise, a task_timeout of zero or less.
void check_pool_options(const PoolOptions& options);

// Throws UsageError for a chunksize that is a negative number in disguise
// (over 2^48: no range has that many items in one chunk). 0 means automatic.
void check_chunksize(std::size_t chunksize, const char* operation);

}  // namespace multiproc::detail
