#include "multiproc/detail/shared_handle.hpp"

#include <fcntl.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "multiproc/error.hpp"
#include "shm/shared_region.hpp"

namespace multiproc::detail {
namespace {

constexpr std::uint32_t kMagic = 0x4f53504d;  // "MPSO": a multiproc shared object
constexpr std::uint16_t kVersion = 1;
// State starts on its own cache line at least, so that the header (read once)
// never shares a line with a futex word that processes hammer.
constexpr std::uint64_t kMinStateOffset = 64;
constexpr std::uint64_t kMaxAlignment = 4096;  // the mapping is page-aligned
constexpr std::uint64_t kMaxStateBytes = std::uint64_t{1} << 40;

// The first bytes of every shared object's region. Written once by the
// creator before the descriptor can reach anyone else.
struct Header {
  std::uint32_t magic;
  std::uint16_t version;
  std::uint16_t kind;
  std::uint64_t element_size;
  std::uint64_t count;
  std::uint64_t alignment;
  std::uint64_t state_offset;
};

const char* kind_name(std::uint16_t kind) {
  switch (static_cast<SharedKind>(kind)) {
    case SharedKind::lock:
      return "Lock";
    case SharedKind::rlock:
      return "RLock";
    case SharedKind::semaphore:
      return "Semaphore";
    case SharedKind::bounded_semaphore:
      return "BoundedSemaphore";
    case SharedKind::event:
      return "Event";
    case SharedKind::condition:
      return "Condition";
    case SharedKind::barrier:
      return "Barrier";
    case SharedKind::value:
      return "Value";
    case SharedKind::array:
      return "Array";
  }
  return "an unknown kind of object";
}

std::uint64_t state_offset(std::uint64_t alignment) {
  return std::max(kMinStateOffset, alignment);
}

// The state's size in bytes, or 0 when it is zero, overflows or is absurd.
std::uint64_t state_bytes(const SharedLayout& layout) {
  if (layout.element_size == 0 || layout.count == 0) return 0;
  if (layout.count > kMaxStateBytes / layout.element_size) return 0;
  return layout.element_size * layout.count;
}

[[noreturn]] void refuse_descriptor(const char* type_name, int fd, const std::string& why) {
  throw UsageError(std::string(type_name) + "::from_fd: descriptor " + std::to_string(fd) +
                   " does not hold a multiproc " + type_name + ": " + why);
}

std::string layout_text(const Header& h) {
  return std::to_string(h.count) + " element(s) of " + std::to_string(h.element_size) +
         " bytes aligned to " + std::to_string(h.alignment);
}

void check_header(const SharedRegion& region, int fd, SharedKind kind, const SharedLayout& layout,
                  const char* type_name) {
  if (region.size() < sizeof(Header)) refuse_descriptor(type_name, fd, "it is too small");
  Header h;
  std::memcpy(&h, region.data(), sizeof h);
  if (h.magic != kMagic) refuse_descriptor(type_name, fd, "no multiproc header");
  if (h.version != kVersion) {
    refuse_descriptor(type_name, fd,
                      "header version " + std::to_string(h.version) + ", this library reads " +
                          std::to_string(kVersion));
  }
  if (h.kind != static_cast<std::uint16_t>(kind))
    refuse_descriptor(type_name, fd, std::string("it holds a ") + kind_name(h.kind));
  SharedLayout found{h.element_size, h.count, h.alignment};
  std::uint64_t bytes = state_bytes(found);
  if (h.element_size != layout.element_size || h.alignment != layout.alignment || bytes == 0 ||
      h.state_offset != state_offset(h.alignment) || h.state_offset + bytes > region.size()) {
    refuse_descriptor(type_name, fd, "its layout (" + layout_text(h) + ") does not match");
  }
}

}  // namespace

SharedHandle::SharedHandle(std::shared_ptr<SharedRegion> region, void* state,
                           std::uint64_t count) noexcept
    : region_(std::move(region)), state_(state), count_(count) {}

SharedHandle::SharedHandle(SharedHandle&& o) noexcept
    : region_(std::move(o.region_)),
      state_(std::exchange(o.state_, nullptr)),
      count_(std::exchange(o.count_, 0)) {}

SharedHandle& SharedHandle::operator=(SharedHandle&& o) noexcept {
  if (this != &o) {
    region_ = std::move(o.region_);
    state_ = std::exchange(o.state_, nullptr);
    count_ = std::exchange(o.count_, 0);
  }
  return *this;
}

SharedHandle::~SharedHandle() = default;

SharedHandle SharedHandle::create(SharedKind kind, const SharedLayout& layout,
                                  const char* type_name) {
  if (!std::has_single_bit(layout.alignment) || layout.alignment > kMaxAlignment)
    throw UsageError(std::string(type_name) + ": alignment " + std::to_string(layout.alignment) +
                     " is not a power of two up to 4096");
  std::uint64_t bytes = state_bytes(layout);
  if (bytes == 0) {
    throw UsageError(std::string(type_name) + ": " + std::to_string(layout.count) +
                     " element(s) of " + std::to_string(layout.element_size) +
                     " bytes is not a size between 1 byte and 1 TiB (a negative size?)");
  }
  std::uint64_t offset = state_offset(layout.alignment);
  std::string debug_name = std::string("multiproc-") + type_name;
  auto region = SharedRegion::create(offset + bytes, debug_name.c_str());
  Header h{kMagic,
           kVersion,
           static_cast<std::uint16_t>(kind),
           layout.element_size,
           layout.count,
           layout.alignment,
           offset};
  std::memcpy(region->data(), &h, sizeof h);
  void* state = static_cast<char*>(region->data()) + offset;
  return SharedHandle(std::move(region), state, layout.count);
}

SharedHandle SharedHandle::adopt(int fd, SharedKind kind, const SharedLayout& layout,
                                 const char* type_name) {
  sys::UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!copy) {
    if (errno == EBADF) refuse_descriptor(type_name, fd, "it is not open");
    throw SystemError(
        std::string(type_name) + "::from_fd: duplicating descriptor " + std::to_string(fd), errno);
  }
  std::shared_ptr<SharedRegion> region;
  try {
    region = SharedRegion::adopt(std::move(copy));
  } catch (const UsageError&) {
    refuse_descriptor(type_name, fd, "it is not a shared memory region");
  }
  check_header(*region, fd, kind, layout, type_name);
  Header h;
  std::memcpy(&h, region->data(), sizeof h);
  void* state = static_cast<char*>(region->data()) + h.state_offset;
  return SharedHandle(std::move(region), state, h.count);
}

void SharedHandle::throw_moved_from(const char* operation) {
  throw UsageError(std::string(operation) + ": the handle was moved from");
}

int SharedHandle::fd(const char* operation) const {
  checked(operation);
  if (!region_->fd_is_open()) {
    throw UsageError(std::string(operation) +
                     ": the object's descriptor is not open in this process (a forked child "
                     "keeps it only when the object is passed as a Process argument)");
  }
  return region_->fd();
}

void SharedHandle::descriptors(std::vector<int>& out) const {
  if (region_ && region_->fd_is_open()) out.push_back(region_->fd());
}

}  // namespace multiproc::detail
