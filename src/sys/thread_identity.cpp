#include "sys/thread_identity.hpp"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sys/proc_fs.hpp"

namespace multiproc::detail {

constinit thread_local ThreadIdentity t_identity __attribute__((tls_model("initial-exec")));

}  // namespace multiproc::detail

namespace multiproc::sys {
namespace {

std::uint32_t make_tag(unsigned long long start_time) noexcept {
  // Never 0, so that 0 means "unknown".
  return static_cast<std::uint32_t>(start_time) | 0x80000000u;
}

// In a forked child the one thread has a new TID: forget the cached one.
void forget_identity_in_child() noexcept {
  detail::t_identity = ThreadIdentity{};
}

[[maybe_unused]] const int g_atfork_registered =
    pthread_atfork(nullptr, nullptr, forget_identity_in_child);

}  // namespace

bool thread_has_ended(std::uint64_t word) noexcept {
  auto tid = static_cast<pid_t>(static_cast<std::uint32_t>(word));
  auto tag = static_cast<std::uint32_t>(word >> 32);
  unsigned long long start_time = 0;
  if (proc::task_has_ended(tid, &start_time)) return true;
  // Alive under that TID: the same thread, unless it started at another time.
  return tag != 0 && start_time != 0 && make_tag(start_time) != tag;
}

}  // namespace multiproc::sys

namespace multiproc::detail {

const ThreadIdentity& compute_thread_identity() noexcept {
  auto tid = static_cast<std::uint32_t>(::syscall(SYS_gettid));
  sys::proc::TaskStat self;
  std::uint32_t tag = 0;
  if (sys::proc::read_thread_self_stat(self) == 0) tag = sys::make_tag(self.start_time);
  t_identity = ThreadIdentity{tid, tag};
  return t_identity;
}

}  // namespace multiproc::detail
