// Internal: what every shared object's handle (Lock, Event, Value, ...) holds.
//
// A handle is a counted reference to a shared region (a memfd and its
// MAP_SHARED mapping) plus a pointer to the object's state inside it. The
// region starts with a header (magic, version, kind, layout) so that a
// descriptor received from elsewhere can be checked before it is trusted.
// Copying a handle gives another reference to the same object; a moved-from
// handle holds nothing, and the public classes refuse to use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace multiproc::detail {

class SharedRegion;

enum class SharedKind : std::uint16_t {
  lock = 1,
  rlock,
  semaphore,
  bounded_semaphore,
  event,
  condition,
  barrier,
  value,
  array,
};

// What a region's header says beyond its kind: the size of one element (the
// state's size for synchronisation objects, sizeof(T) for Value and Array),
// their count, and the alignment the state was placed at.
struct SharedLayout {
  std::uint64_t element_size = 0;
  std::uint64_t count = 1;
  std::uint64_t alignment = alignof(std::max_align_t);
};

class SharedHandle {
 public:
  SharedHandle() noexcept = default;
  SharedHandle(const SharedHandle&) = default;
  SharedHandle& operator=(const SharedHandle&) = default;
  SharedHandle(SharedHandle&& o) noexcept;
  SharedHandle& operator=(SharedHandle&& o) noexcept;
  ~SharedHandle();

  // A new zero-filled region holding the header and element_size * count
  // bytes of state. Throws UsageError naming `type_name` for a zero or absurd
  // size, SystemError when the kernel refuses.
  static SharedHandle create(SharedKind kind, const SharedLayout& layout, const char* type_name);
  // Maps a duplicate of `fd` (the caller keeps its own) and checks that it
  // holds an object of `kind` with the same element size and alignment.
  // Throws UsageError naming `type_name` when it does not.
  static SharedHandle adopt(int fd, SharedKind kind, const SharedLayout& layout,
                            const char* type_name);

  // The object's state; nullptr in a moved-from or default handle.
  void* state() const noexcept { return state_; }
  // The state, or a UsageError naming `operation` for a moved-from handle.
  void* checked(const char* operation) const {
    if (state_ == nullptr) [[unlikely]]
      throw_moved_from(operation);
    return state_;
  }
  // The element count recorded in the header.
  std::uint64_t count() const noexcept { return count_; }
  // The region's memfd (close-on-exec), or a UsageError when moved-from.
  int fd(const char* operation) const;
  // Appends the memfd, if any: a Process argument keeps it open in the child.
  void descriptors(std::vector<int>& out) const;

 private:
  SharedHandle(std::shared_ptr<SharedRegion> region, void* state, std::uint64_t count) noexcept;
  [[noreturn]] static void throw_moved_from(const char* operation);

  std::shared_ptr<SharedRegion> region_;
  void* state_ = nullptr;
  std::uint64_t count_ = 0;
};

}  // namespace multiproc::detail
