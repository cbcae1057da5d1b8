#include "shm/named_segment.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "multiproc/error.hpp"

namespace multiproc::detail {
namespace {

constexpr std::size_t kMaxSegment = std::size_t{1} << 40;

// "/name" for a valid name; UsageError otherwise (the rules of glibc's
// shm_open, checked here so the error says what is wrong).
std::string canonical_name(std::string_view name, const char* operation) {
  std::string_view bare = name.starts_with('/') ? name.substr(1) : name;
  const char* problem = nullptr;
  if (bare.empty() || bare == "." || bare == "..") {
    problem = "is empty, \".\" or \"..\"";
  } else if (bare.find('/') != std::string_view::npos) {
    problem = "holds a '/' after the first character";
  } else if (bare.size() + 1 >= NAME_MAX) {
    problem = "is longer than 253 characters";
  } else if (bare.find('\0') != std::string_view::npos) {
    problem = "holds a NUL character";
  }
  if (problem != nullptr) {
    throw UsageError(std::string(operation) + ": the name \"" + std::string(name) + "\" " +
                     problem);
  }
  std::string canonical(1, '/');  // not "/" + std::string: GCC 12 -O3 warns (-Wrestrict)
  canonical += bare;
  return canonical;
}

std::string dev_shm_path(const std::string& name) {
  return "/dev/shm" + name;
}

// Unlinks the name on scope exit unless disarmed: create leaves nothing behind.
class UnlinkOnFailure {
 public:
  explicit UnlinkOnFailure(const std::string& name) : name_(name) {}
  ~UnlinkOnFailure() {
    if (armed_) ::shm_unlink(name_.c_str());
  }
  UnlinkOnFailure(const UnlinkOnFailure&) = delete;
  UnlinkOnFailure& operator=(const UnlinkOnFailure&) = delete;
  void disarm() { armed_ = false; }

 private:
  const std::string& name_;
  bool armed_ = true;
};

}  // namespace

NamedSegment create_named_segment(std::string_view name, std::size_t size) {
  NamedSegment s;
  s.name = canonical_name(name, "SharedMemory::create");
  if (size == 0 || size > kMaxSegment) {
    throw UsageError("SharedMemory::create: size " + std::to_string(size) +
                     " is not between 1 byte and 1 TiB (a negative size?)");
  }
  sys::UniqueFd fd(::shm_open(s.name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600));
  if (!fd) throw SystemError("SharedMemory::create: shm_open(" + s.name + ")", errno);
  UnlinkOnFailure cleanup(s.name);
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
    throw SystemError("SharedMemory::create: ftruncate(" + s.name + ")", errno);
  }
  s.region = SharedRegion::adopt(std::move(fd));
  std::string path = dev_shm_path(s.name);
  int err = start_shm_tracker(s.region->fd(), path.c_str(), s.tracker);
  if (err != 0) throw SystemError("SharedMemory::create: starting the tracker of " + s.name, -err);
  // From here on the tracker removes the name once no user is left.
  cleanup.disarm();
  return s;
}

NamedSegment attach_named_segment(std::string_view name) {
  NamedSegment s;
  s.name = canonical_name(name, "SharedMemory::attach");
  sys::UniqueFd fd(::shm_open(s.name.c_str(), O_RDWR | O_CLOEXEC, 0));
  if (!fd) throw SystemError("SharedMemory::attach: shm_open(" + s.name + ")", errno);
  s.region = SharedRegion::adopt(std::move(fd));
  return s;
}

void unlink_named_segment(const std::string& name) {
  if (::shm_unlink(name.c_str()) != 0) {
    throw SystemError("SharedMemory::unlink: shm_unlink(" + name + ")", errno);
  }
}

}  // namespace multiproc::detail
