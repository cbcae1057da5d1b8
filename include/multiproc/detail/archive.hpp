// Internal: cereal archives for multiproc messages. The same binary layout as
// cereal's own binary archive (native endianness, both sides are the same
// machine), written straight into a std::string and read straight from a
// byte span — no iostream in between. The input archive never trusts a
// size from the wire: a container may not claim more elements than there
// are bytes left, so hostile bytes cannot make it allocate gigabytes.
#pragma once

#include <cereal/cereal.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

namespace multiproc::detail {

class OutArchive : public cereal::OutputArchive<OutArchive, cereal::AllowEmptyClassElision> {
 public:
  explicit OutArchive(std::string& out) : OutputArchive(this), out_(out) {}
  void saveBinary(const void* data, std::streamsize size) {
    if (size == 0) return;  // an empty container may have no storage at all
    out_.append(static_cast<const char*>(data), static_cast<std::size_t>(size));
  }

 private:
  std::string& out_;
};

class InArchive : public cereal::InputArchive<InArchive, cereal::AllowEmptyClassElision> {
 public:
  explicit InArchive(std::span<const std::byte> in) : InputArchive(this), in_(in) {}
  void loadBinary(void* data, std::streamsize size) {
    auto n = static_cast<std::size_t>(size);
    if (n == 0) return;  // an empty container may have no storage at all
    if (n > in_.size() - pos_) {
      throw cereal::Exception("message truncated: needs " + std::to_string(n) +
                              " more bytes, has " + std::to_string(in_.size() - pos_));
    }
    std::memcpy(data, in_.data() + pos_, n);
    pos_ += n;
  }
  std::size_t remaining() const noexcept { return in_.size() - pos_; }

 private:
  std::span<const std::byte> in_;
  std::size_t pos_ = 0;
};

template <class T>
void prologue(OutArchive&, const T&) {}
template <class T>
void epilogue(OutArchive&, const T&) {}
template <class T>
void prologue(InArchive&, const T&) {}
template <class T>
void epilogue(InArchive&, const T&) {}

template <class T>
requires std::is_arithmetic_v<T>
void CEREAL_SAVE_FUNCTION_NAME(OutArchive& ar, const T& t) {
  ar.saveBinary(std::addressof(t), sizeof(t));
}
template <class T>
requires std::is_arithmetic_v<T> &&
    (!std::is_same_v<T, bool>)void CEREAL_LOAD_FUNCTION_NAME(InArchive& ar, T& t) {
  ar.loadBinary(std::addressof(t), sizeof(t));
}
// A bool is one byte on the wire; any value but 0 or 1 is corrupt (and
// copying it into a bool would be undefined behaviour).
inline void CEREAL_LOAD_FUNCTION_NAME(InArchive& ar, bool& t) {
  unsigned char byte = 0;
  ar.loadBinary(&byte, 1);
  if (byte > 1) throw cereal::Exception("invalid bool byte " + std::to_string(byte));
  t = byte == 1;
}

template <class T>
void CEREAL_SAVE_FUNCTION_NAME(OutArchive& ar, const cereal::BinaryData<T>& b) {
  ar.saveBinary(b.data, static_cast<std::streamsize>(b.size));
}
template <class T>
void CEREAL_LOAD_FUNCTION_NAME(InArchive& ar, cereal::BinaryData<T>& b) {
  ar.loadBinary(b.data, static_cast<std::streamsize>(b.size));
}

template <class T>
void CEREAL_SAVE_FUNCTION_NAME(OutArchive& ar, const cereal::NameValuePair<T>& t) {
  ar(t.value);
}
template <class T>
void CEREAL_LOAD_FUNCTION_NAME(InArchive& ar, cereal::NameValuePair<T>& t) {
  ar(t.value);
}

template <class T>
void CEREAL_SAVE_FUNCTION_NAME(OutArchive& ar, const cereal::SizeTag<T>& t) {
  ar(t.size);
}
// Every element takes at least one byte on the wire (an empty element is
// elided): a size above the bytes left is corrupt or hostile.
template <class T>
void CEREAL_LOAD_FUNCTION_NAME(InArchive& ar, cereal::SizeTag<T>& t) {
  ar(t.size);
  if (static_cast<std::uint64_t>(t.size) > ar.remaining()) {
    throw cereal::Exception(
        "container claims " + std::to_string(static_cast<std::uint64_t>(t.size)) +
        " elements with only " + std::to_string(ar.remaining()) + " bytes left");
  }
}

}  // namespace multiproc::detail

CEREAL_REGISTER_ARCHIVE(multiproc::detail::OutArchive)
CEREAL_REGISTER_ARCHIVE(multiproc::detail::InArchive)
CEREAL_SETUP_ARCHIVE_TRAITS(multiproc::detail::InArchive, multiproc::detail::OutArchive)
