#include "multiproc/detail/fd_check.hpp"

#include <sys/stat.h>

namespace multiproc::detail {
namespace {
std::atomic<std::uint32_t> g_generation{1};
}  // namespace

void bump_fork_generation() noexcept {
  g_generation.fetch_add(1, std::memory_order_relaxed);
}
std::uint32_t fork_generation() noexcept {
  return g_generation.load(std::memory_order_relaxed);
}

FdCheck::FdCheck(int fd) noexcept {
  struct stat st;
  if (::fstat(fd, &st) == 0) {
    dev_ = st.st_dev;
    ino_ = st.st_ino;
  }
  checked_.store(fork_generation());
}

bool FdCheck::revalidate(int fd, std::uint32_t generation) const noexcept {
  struct stat st;
  bool ok = ::fstat(fd, &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_;
  ok_.store(ok, std::memory_order_relaxed);
  checked_.store(generation, std::memory_order_relaxed);
  return ok;
}

}  // namespace multiproc::detail
