// Internal: one received message: its type tag (0 for raw bytes) and its
// payload, valid until the next receive on the same channel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace multiproc::detail {

struct Frame {
  std::uint32_t tag;
  std::span<const std::byte> payload;
};

}  // namespace multiproc::detail
