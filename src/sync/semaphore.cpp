// Semaphore and BoundedSemaphore: the members of detail::BasicSemaphore,
// once for both. They differ in the lowest initial value, the maximum and
// the words of an over-release.
#include "multiproc/semaphore.hpp"

#include <semaphore.h>

#include <string>

#include "multiproc/detail/wire.hpp"
#include "multiproc/error.hpp"
#include "sync/semaphore_state.hpp"

namespace multiproc::detail {
namespace {

// The names the two classes give their calls in errors.
struct SemaphoreNames {
  const char* type;
  const char* acquire;
  const char* try_acquire;
  const char* release;
  const char* get_value;
  const char* fd;
};
constexpr SemaphoreNames kNames[2] = {
    {"Semaphore", "Semaphore::acquire", "Semaphore::try_acquire", "Semaphore::release",
     "Semaphore::get_value", "Semaphore::fd"},
    {"BoundedSemaphore", "BoundedSemaphore::acquire", "BoundedSemaphore::try_acquire",
     "BoundedSemaphore::release", "BoundedSemaphore::get_value", "BoundedSemaphore::fd"},
};
template <bool Bounded>
constexpr const SemaphoreNames& kNamesOf = kNames[Bounded ? 1 : 0];
template <bool Bounded>
constexpr SharedKind kShared = Bounded ? SharedKind::bounded_semaphore : SharedKind::semaphore;

constexpr auto kMax = static_cast<std::uint32_t>(SEM_VALUE_MAX);

SemaphoreState& state(const SharedHandle& h, const char* operation) {
  return *static_cast<SemaphoreState*>(h.checked(operation));
}

bool acquire_unit(const SharedHandle& h, const sys::Deadline& deadline, const char* operation) {
  int r = semaphore_acquire(state(h, operation), deadline);
  if (r < 0) throw SystemError(std::string(operation) + ": futex wait", -r);
  return r == 1;
}

// A new region holding `value` units, at most `value` when bounded.
template <bool Bounded>
SharedHandle create_semaphore(int value) {
  const char* type = kNamesOf<Bounded>.type;
  int lowest = Bounded ? 1 : 0;
  if (value < lowest) {
    throw UsageError(std::string(type) + ": initial value " + std::to_string(value) +
                     " is not between " + std::to_string(lowest) + " and SEM_VALUE_MAX");
  }
  SharedHandle h = SharedHandle::create(kShared<Bounded>, kSemaphoreLayout, type);
  auto* s = new (h.state()) SemaphoreState{};
  s->value.store(static_cast<std::uint32_t>(value));
  s->max = Bounded ? static_cast<std::uint32_t>(value) : kMax;
  return h;
}

}  // namespace

template <class Derived, bool Bounded>
BasicSemaphore<Derived, Bounded>::BasicSemaphore(int value)
    : handle_(create_semaphore<Bounded>(value)) {}

template <class Derived, bool Bounded>
void BasicSemaphore<Derived, Bounded>::acquire() {
  acquire_unit(handle_, sys::Deadline::never(), kNamesOf<Bounded>.acquire);
}

template <class Derived, bool Bounded>
bool BasicSemaphore<Derived, Bounded>::acquire(std::chrono::nanoseconds timeout) {
  return acquire_unit(handle_, sys::Deadline::after(timeout), kNamesOf<Bounded>.acquire);
}

template <class Derived, bool Bounded>
bool BasicSemaphore<Derived, Bounded>::try_acquire() {
  return semaphore_try_acquire(state(handle_, kNamesOf<Bounded>.try_acquire));
}

template <class Derived, bool Bounded>
void BasicSemaphore<Derived, Bounded>::release() {
  SemaphoreState& s = state(handle_, kNamesOf<Bounded>.release);
  if (semaphore_release(s) == 0) [[likely]]
    return;
  if (Bounded) {
    throw UsageError(
        "BoundedSemaphore::release: released too many times (the value is already its maximum, " +
        std::to_string(s.max) + ")");
  }
  throw UsageError("Semaphore::release: the value would exceed SEM_VALUE_MAX");
}

template <class Derived, bool Bounded>
int BasicSemaphore<Derived, Bounded>::get_value() const {
  return static_cast<int>(state(handle_, kNamesOf<Bounded>.get_value).value.load());
}

template <class Derived, bool Bounded>
int BasicSemaphore<Derived, Bounded>::fd() const {
  return handle_.fd(kNamesOf<Bounded>.fd);
}

template <class Derived, bool Bounded>
Derived BasicSemaphore<Derived, Bounded>::from_fd(int fd) {
  return Derived(
      SharedHandle::adopt(fd, kShared<Bounded>, kSemaphoreLayout, kNamesOf<Bounded>.type));
}

template <class Derived, bool Bounded>
void BasicSemaphore<Derived, Bounded>::multiproc_export(WireWriter& w) const {
  w.fd(fd());
}

template <class Derived, bool Bounded>
Derived BasicSemaphore<Derived, Bounded>::multiproc_import(WireReader& r) {
  return from_fd(r.fd());
}

template class BasicSemaphore<Semaphore, false>;
template class BasicSemaphore<BoundedSemaphore, true>;

}  // namespace multiproc::detail

namespace multiproc {

int BoundedSemaphore::max_value() const {
  return static_cast<int>(detail::state(handle_, "BoundedSemaphore::max_value").max);
}

}  // namespace multiproc
