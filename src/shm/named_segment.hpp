// Named shared memory segments: POSIX shm_open in /dev/shm, with a tracker
// for the segments this process creates.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "shm/shared_region.hpp"
#include "shm/shm_tracker.hpp"

namespace multiproc::detail {

struct NamedSegment {
  std::shared_ptr<SharedRegion> region;
  std::string name;    // "/name"
  ShmTracker tracker;  // empty for an attached segment
};

// Creates `name` exclusively with `size` zero bytes, maps it and starts its
// tracker. On failure nothing is left in /dev/shm. Throws UsageError for a
// bad name or size, SystemError otherwise.
NamedSegment create_named_segment(std::string_view name, std::size_t size);
// Opens and maps the existing segment `name`.
NamedSegment attach_named_segment(std::string_view name);
// shm_unlink; throws SystemError.
void unlink_named_segment(const std::string& name);

}  // namespace multiproc::detail
