#include "shm/shared_region.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "multiproc/error.hpp"

namespace multiproc::detail {
namespace {

// No single region may claim more than this (1 TiB): a larger request is a
// bug or hostile input, refused before the kernel is asked.
constexpr std::size_t kMaxRegion = std::size_t{1} << 40;

void* map(int fd, std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    throw SystemError("mmap of a shared region of " + std::to_string(bytes) + " bytes", errno);
  return p;
}

}  // namespace

std::shared_ptr<SharedRegion> SharedRegion::create(std::size_t bytes, const char* debug_name) {
  if (bytes == 0 || bytes > kMaxRegion) {
    throw UsageError("SharedMemory: size " + std::to_string(bytes) +
                     " is not between 1 byte and 1 TiB");
  }
  sys::UniqueFd fd(::memfd_create(debug_name, MFD_CLOEXEC));
  if (!fd) throw SystemError("memfd_create", errno);
  if (::ftruncate(fd.get(), static_cast<off_t>(bytes)) != 0) {
    throw SystemError("ftruncate of a shared region to " + std::to_string(bytes) + " bytes", errno);
  }
  void* data = map(fd.get(), bytes);
  return std::shared_ptr<SharedRegion>(new SharedRegion(std::move(fd), data, bytes));
}

std::shared_ptr<SharedRegion> SharedRegion::adopt(sys::UniqueFd fd) {
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) throw SystemError("fstat of a shared region", errno);
  auto bytes = static_cast<std::size_t>(st.st_size);
  if (bytes == 0 || bytes > kMaxRegion) {
    throw UsageError("SharedMemory: descriptor " + std::to_string(fd.get()) +
                     " is not a shared region (size " + std::to_string(bytes) + ")");
  }
  void* data = map(fd.get(), bytes);
  return std::shared_ptr<SharedRegion>(new SharedRegion(std::move(fd), data, bytes));
}

SharedRegion::SharedRegion(sys::UniqueFd fd, void* data, std::size_t size) noexcept
    : fd_(std::move(fd)), data_(data), size_(size), fd_check_(fd_.get()) {}

bool SharedRegion::fd_is_open() const noexcept {
  return fd_check_.valid(fd_.get());
}

SharedRegion::~SharedRegion() {
  ::munmap(data_, size_);
  // Never close a descriptor number that now names something else.
  if (!fd_is_open()) (void)fd_.release();
}

}  // namespace multiproc::detail
