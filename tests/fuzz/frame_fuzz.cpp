// libFuzzer target: bytes from another process, read as Connection frames
// and decoded as values. Whatever the bytes, the reader and the decoders may
// only return values or throw multiproc errors: no crash, no hang, no huge
// allocation (the frame limit is 16 MiB here; ASan's allocator reports more).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ipc/frame.hpp"
#include "multiproc/error.hpp"
#include "multiproc/serialization.hpp"

namespace mp = multiproc;

namespace {

struct Record {
  std::string name;
  std::vector<std::int64_t> values;
  std::optional<std::map<std::string, double>> extra;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(name, values, extra);
  }
};

// Hands out the input in chunks whose sizes the input's first byte chooses,
// as a socket would.
class ChunkedSource : public mp::detail::ByteSource {
 public:
  ChunkedSource(const std::uint8_t* data, std::size_t size)
      : data_(data), size_(size), chunk_(size > 0 ? data[0] % 17 + 1 : 1) {}
  std::size_t read(std::byte* dst, std::size_t max) override {
    std::size_t n = std::min({max, size_ - pos_, chunk_});
    if (n > 0) std::memcpy(dst, data_ + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t chunk_;
  std::size_t pos_ = 0;
};

template <class T>
void try_decode(const mp::detail::Frame& f) {
  try {
    mp::check_tag<T>(f.tag);
  } catch (const mp::DecodeError&) {
    // The tag is random: decode anyway, the decoder must cope.
  }
  try {
    (void)mp::decode<T>(f.payload);
  } catch (const mp::DecodeError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ChunkedSource source(data, size);
  mp::detail::FrameReader reader(16u << 20);
  mp::Bytes large;
  try {
    for (;;) {
      mp::detail::Frame f = reader.read(source, large);
      try_decode<int>(f);
      try_decode<std::string>(f);
      try_decode<std::vector<double>>(f);
      try_decode<Record>(f);
      try_decode<std::vector<std::string>>(f);
      try_decode<mp::ExceptionInfo>(f);
    }
  } catch (const mp::EOFError&) {
  } catch (const mp::ProtocolError&) {
  }
  return 0;
}
