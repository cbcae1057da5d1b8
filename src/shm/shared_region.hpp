// A block of memory shared between processes: an anonymous memfd and its
// MAP_SHARED mapping. Forked children inherit the mapping; the descriptor
// travels to spawned children (SCM_RIGHTS or an inherited descriptor), where
// adopt() maps it again. Nothing is left behind when every process holding it
// dies, SIGKILL included: a memfd has no name in any filesystem.
//
// Thread-safe to share (the handle is immutable after creation); the bytes
// themselves are the user's to synchronise.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>

#include "multiproc/detail/fd_check.hpp"
#include "sys/unique_fd.hpp"

namespace multiproc::detail {

class SharedRegion {
 public:
  // A zero-filled region of `bytes` (> 0). `debug_name` shows in
  // /proc/<pid>/fd and /proc/<pid>/maps as "memfd:<name>". Throws
  // SystemError, or UsageError for a zero or absurd size.
  static std::shared_ptr<SharedRegion> create(std::size_t bytes, const char* debug_name);
  // Maps the memfd `fd` (its size from fstat) and takes ownership of it.
  static std::shared_ptr<SharedRegion> adopt(sys::UniqueFd fd);

  ~SharedRegion();
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;

  void* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  // The memfd, for passing to another process. Close-on-exec.
  int fd() const noexcept { return fd_.get(); }
  // Whether fd() is still open here and still names this region. In a forked
  // child that did not receive the region as a Process argument, the
  // descriptor was closed (and its number may have been reused).
  bool fd_is_open() const noexcept;

 private:
  SharedRegion(sys::UniqueFd fd, void* data, std::size_t size) noexcept;

  sys::UniqueFd fd_;
  void* data_;
  std::size_t size_;
  detail::FdCheck fd_check_;  // whether fd_ still names the memfd (after a fork)
};

}  // namespace multiproc::detail
