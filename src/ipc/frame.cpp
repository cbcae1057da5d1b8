#include "ipc/frame.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "multiproc/error.hpp"

namespace multiproc::detail {
namespace {

// A large frame's buffer starts at most this big and doubles as data comes.
constexpr std::uint64_t kInitialLarge = 64ull << 20;

}  // namespace

FrameHeader FrameReader::parse_header() const {
  FrameHeader h;
  std::memcpy(&h, buffer_.data() + pos_, sizeof h);
  if (h.magic != kFrameMagic) {
    throw ProtocolError("multiproc: corrupt message on a connection (bad frame magic)");
  }
  if (h.length > max_message_) {
    throw ProtocolError("multiproc: message of " + std::to_string(h.length) +
                        " bytes exceeds the limit of " + std::to_string(max_message_) + " bytes");
  }
  return h;
}

bool FrameReader::has_buffered_frame() const noexcept {
  if (buffered() < sizeof(FrameHeader)) return false;
  FrameHeader h;
  std::memcpy(&h, buffer_.data() + pos_, sizeof h);
  // A bad header also counts: read() will not block before reporting it.
  return h.magic != kFrameMagic || h.length > max_message_ || buffered() - sizeof h >= h.length;
}

bool FrameReader::fill(ByteSource& source, std::size_t need) {
  if (buffer_.empty()) buffer_.resize(kBufferSize);
  if (pos_ + need > buffer_.size()) {  // compact: move what is left to the front
    std::memmove(buffer_.data(), buffer_.data() + pos_, buffered());
    end_ -= pos_;
    pos_ = 0;
  }
  while (buffered() < need) {
    std::size_t n = source.read(buffer_.data() + end_, buffer_.size() - end_);
    if (n == 0) return false;
    end_ += n;
  }
  return true;
}

Frame FrameReader::read(ByteSource& source, Bytes& large) {
  if (!fill(source, sizeof(FrameHeader))) {
    if (buffered() == 0) throw EOFError("multiproc: the other end of the connection is closed");
    throw EOFError("multiproc: connection closed in the middle of a message header");
  }
  FrameHeader h = parse_header();
  std::size_t total = sizeof h + h.length;
  if (total <= kBufferSize) {
    if (!fill(source, total)) {
      throw EOFError("multiproc: connection closed in the middle of a message of " +
                     std::to_string(h.length) + " bytes");
    }
    Frame f{h.tag, {buffer_.data() + pos_ + sizeof h, static_cast<std::size_t>(h.length)}};
    pos_ += total;
    return f;
  }
  // Large: copy what is buffered, then read the rest straight into `large`,
  // never past this frame's end.
  pos_ += sizeof h;
  std::uint64_t got = std::min<std::uint64_t>(buffered(), h.length);
  large.resize(static_cast<std::size_t>(std::max(got, std::min(h.length, kInitialLarge))));
  std::memcpy(large.data(), buffer_.data() + pos_, static_cast<std::size_t>(got));
  pos_ += static_cast<std::size_t>(got);
  while (got < h.length) {
    if (got == large.size()) {
      large.resize(static_cast<std::size_t>(
          std::min(h.length, 2 * static_cast<std::uint64_t>(large.size()))));
    }
    std::size_t n = source.read(large.data() + got, large.size() - static_cast<std::size_t>(got));
    if (n == 0) {
      throw EOFError("multiproc: connection closed in the middle of a message (" +
                     std::to_string(got) + " of " + std::to_string(h.length) + " bytes)");
    }
    got += n;
  }
  large.resize(static_cast<std::size_t>(h.length));
  return {h.tag, large.span()};
}

}  // namespace multiproc::detail
