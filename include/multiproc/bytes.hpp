// multiproc/bytes.hpp — an owned, uninitialised byte buffer for messages.
//
//   mp::Bytes b = conn.recv_bytes();
//   std::span<const std::byte> view = b.span();
//
// Small buffers live on the heap; large ones (1 MiB and up) are anonymous
// mappings that grow with mremap, so a multi-gigabyte message is received
// without zero-filling or copying it, and a length announced by a peer costs
// nothing until the bytes actually arrive.
//
// Not thread-safe; movable, not copyable (use to_vector() for a copy).
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace multiproc {

class Bytes {
 public:
  Bytes() noexcept = default;
  explicit Bytes(std::size_t size);  // contents unspecified
  ~Bytes();
  Bytes(Bytes&& o) noexcept;
  Bytes& operator=(Bytes&& o) noexcept;
  Bytes(const Bytes&) = delete;
  Bytes& operator=(const Bytes&) = delete;

  std::byte* data() noexcept { return data_; }
  const std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::span<std::byte> span() noexcept { return {data_, size_}; }
  std::span<const std::byte> span() const noexcept { return {data_, size_}; }
  std::string_view view() const noexcept { return {reinterpret_cast<const char*>(data_), size_}; }
  std::vector<std::byte> to_vector() const { return {data_, data_ + size_}; }

  // Changes the size, keeping the first min(old, new) bytes. Throws
  // std::bad_alloc when memory runs out.
  void resize(std::size_t size);

 private:
  void release() noexcept;

  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  bool mapped_ = false;
};

}  // namespace multiproc
