// Internal: guards a descriptor that a forked child may not have.
//
// A child started by fork keeps only the descriptors passed to it (see
// docs/process.md); an object captured by reference still refers to its
// descriptor *number*, which the child may have reused for something else.
// Using it would then read or write a stranger's file. Each fork bumps a
// process-wide generation; an FdCheck re-validates its descriptor (same
// device and inode, by fstat) once per generation, and otherwise costs one
// relaxed load. Thread-safe.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>

namespace multiproc::detail {

// Incremented in every forked child before user code runs (async-signal-safe).
void bump_fork_generation() noexcept;
std::uint32_t fork_generation() noexcept;

class FdCheck {
 public:
  FdCheck() = default;
  explicit FdCheck(int fd) noexcept;  // records what `fd` is now
  FdCheck(const FdCheck& o) noexcept
      : dev_(o.dev_), ino_(o.ino_), checked_(o.checked_.load()), ok_(o.ok_.load()) {}
  FdCheck& operator=(const FdCheck& o) noexcept {
    dev_ = o.dev_;
    ino_ = o.ino_;
    checked_.store(o.checked_.load());
    ok_.store(o.ok_.load());
    return *this;
  }

  // Whether `fd` still names the file it named when this was made.
  bool valid(int fd) const noexcept {
    std::uint32_t g = fork_generation();
    if (checked_.load(std::memory_order_relaxed) == g) return ok_.load(std::memory_order_relaxed);
    return revalidate(fd, g);
  }

 private:
  bool revalidate(int fd, std::uint32_t generation) const noexcept;

  dev_t dev_ = 0;
  ino_t ino_ = 0;
  mutable std::atomic<std::uint32_t> checked_{0};
  mutable std::atomic<bool> ok_{true};
};

}  // namespace multiproc::detail
