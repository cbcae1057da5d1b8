#include "multiproc/condition.hpp"

#include <cerrno>
#include <climits>
#include <string>

#include "multiproc/error.hpp"
#include "sys/futex.hpp"

namespace multiproc {
namespace {

using detail::SharedHandle;
using detail::SharedKind;

struct ConditionState {
  std::atomic<std::uint32_t> sequence;  // the futex word: bumped by every notify
  std::atomic<std::uint32_t> sleepers;  // threads between wait's announce and its return
};

constexpr detail::SharedLayout kLayout{sizeof(ConditionState), 1, alignof(ConditionState)};

ConditionState& state(const SharedHandle& h, const char* operation) {
  return *static_cast<ConditionState*>(h.checked(operation));
}

SharedHandle create_condition() {
  SharedHandle h = SharedHandle::create(SharedKind::condition, kLayout, "Condition");
  new (h.state()) ConditionState{};
  return h;
}

// Sleeps while the sequence is still `seen`: 0 when it moved, -ETIMEDOUT, -errno.
int sleep_while_unchanged(ConditionState& c, std::uint32_t seen, const sys::Deadline& deadline) {
  while (c.sequence.load(std::memory_order_acquire) == seen) {
    int r = sys::futex_wait(c.sequence, seen, deadline);
    if (r == -ETIMEDOUT || (r < 0 && r != -EINTR)) return r;
  }
  return 0;
}

void wake(const SharedHandle& h, int n, const char* operation) {
  ConditionState& c = state(h, operation);
  c.sequence.fetch_add(1, std::memory_order_seq_cst);
  if (c.sleepers.load(std::memory_order_seq_cst) != 0) sys::futex_wake(c.sequence, n);
}

}  // namespace

Condition::Condition() : Condition(Lock()) {}
Condition::Condition(Lock lock) : Condition(create_condition(), std::move(lock)) {}
Condition::Condition(RLock lock) : Condition(create_condition(), std::move(lock)) {}
Condition::Condition(SharedHandle handle, AnyLock lock) noexcept
    : handle_(std::move(handle)), lock_(std::move(lock)) {}

AcquireResult Condition::acquire() {
  return std::visit([](auto& l) { return l.acquire(); }, lock_);
}
AcquireResult Condition::acquire(std::chrono::nanoseconds timeout) {
  return std::visit([timeout](auto& l) { return l.acquire(timeout); }, lock_);
}
void Condition::release() {
  std::visit([](auto& l) { l.release(); }, lock_);
}
void Condition::lock() {
  std::visit([](auto& l) { l.lock(); }, lock_);
}
bool Condition::try_lock() {
  return std::visit([](auto& l) { return l.try_lock(); }, lock_);
}

void Condition::wait() {
  wait_until({}, true);
}

bool Condition::wait(std::chrono::nanoseconds timeout) {
  return wait_until(detail::deadline_after(timeout), false);
}

bool Condition::wait_until(std::chrono::steady_clock::time_point deadline, bool forever) {
  ConditionState& c = state(handle_, "Condition::wait");
  // Read under the lock, so that a notify made under the lock after this
  // point changes the sequence this wait sleeps on.
  std::uint32_t seen = c.sequence.load(std::memory_order_acquire);
  c.sleepers.fetch_add(1, std::memory_order_seq_cst);
  int levels = 1;
  try {
    if (auto* r = std::get_if<RLock>(&lock_)) {
      levels = r->release_all();
    } else {
      std::get<Lock>(lock_).release();
    }
  } catch (const UsageError&) {
    c.sleepers.fetch_sub(1, std::memory_order_relaxed);
    throw UsageError("Condition::wait: this thread does not hold the condition's lock");
  }
  sys::Deadline dl = forever ? sys::Deadline::never()
                             : sys::Deadline::after(deadline - std::chrono::steady_clock::now());
  int r = sleep_while_unchanged(c, seen, dl);
  c.sleepers.fetch_sub(1, std::memory_order_relaxed);
  if (auto* l = std::get_if<RLock>(&lock_)) {
    l->reacquire(levels);
  } else {
    std::get<Lock>(lock_).lock();
  }
  if (r < 0 && r != -ETIMEDOUT) throw SystemError("Condition::wait: futex wait", -r);
  return r == 0;
}

void Condition::notify(int n) {
  if (n < 0) throw UsageError("Condition::notify: n is " + std::to_string(n) + ", not >= 0");
  if (n > 0) wake(handle_, n, "Condition::notify");
}

void Condition::notify_all() {
  wake(handle_, INT_MAX, "Condition::notify_all");
}

int Condition::fd() const {
  return handle_.fd("Condition::fd");
}

Condition Condition::from_fd(int fd, Lock lock) {
  return Condition(SharedHandle::adopt(fd, SharedKind::condition, kLayout, "Condition"),
                   std::move(lock));
}

Condition Condition::from_fd(int fd, RLock lock) {
  return Condition(SharedHandle::adopt(fd, SharedKind::condition, kLayout, "Condition"),
                   std::move(lock));
}

void Condition::multiproc_descriptors(std::vector<int>& out) const {
  handle_.descriptors(out);
  std::visit([&out](const auto& l) { l.multiproc_descriptors(out); }, lock_);
}

}  // namespace multiproc
