// The wire format of a Connection: a 16-byte header (magic, type tag, 64-bit
// payload length, all native-endian: both ends are on one machine), then the
// payload. FrameReader turns a byte stream into frames; it owns no descriptor
// (a ByteSource supplies the bytes), so the fuzzer drives exactly this code.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "multiproc/bytes.hpp"
#include "multiproc/detail/frame.hpp"

namespace multiproc::detail {

constexpr std::uint32_t kFrameMagic = 0x4652504d;  // "MPRF"

struct FrameHeader {
  std::uint32_t magic;
  std::uint32_t tag;  // type tag of the payload; 0 for raw bytes
  std::uint64_t length;
};
static_assert(sizeof(FrameHeader) == 16);

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `max` (> 0) bytes; returns how many, 0 at end of stream.
  // Throws on errors and timeouts.
  virtual std::size_t read(std::byte* dst, std::size_t max) = 0;
};

class FrameReader {
 public:
  explicit FrameReader(std::uint64_t max_message) : max_message_(max_message) {}

  // Reads the next frame. A frame that fits the internal buffer is returned in
  // place; a larger one is assembled in `large`, which grows only as bytes
  // arrive. Throws EOFError at the end of the stream (mentioning a truncated
  // message if it ended inside one) and ProtocolError for invalid bytes.
  Frame read(ByteSource& source, Bytes& large);

  // Frames announced from now on may be at most `bytes` long.
  void set_max_message(std::uint64_t bytes) noexcept { max_message_ = bytes; }

  // Whether a whole frame is already buffered (so read() will not block).
  bool has_buffered_frame() const noexcept;

 private:
  static constexpr std::size_t kBufferSize = 64 * 1024;
  std::size_t buffered() const noexcept { return end_ - pos_; }
  FrameHeader parse_header() const;
  // Reads into the buffer until `need` bytes are buffered; false at end of stream.
  bool fill(ByteSource& source, std::size_t need);

  std::uint64_t max_message_;
  std::vector<std::byte> buffer_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
};

}  // namespace multiproc::detail
