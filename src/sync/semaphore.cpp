#include "multiproc/semaphore.hpp"

#include <semaphore.h>

#include <string>

#include "multiproc/error.hpp"
#include "sync/semaphore_state.hpp"

namespace multiproc {
namespace {

using detail::SemaphoreState;
using detail::SharedHandle;
using detail::SharedKind;

constexpr auto kMax = static_cast<std::uint32_t>(SEM_VALUE_MAX);

SharedHandle create_semaphore(SharedKind kind, int value, std::uint32_t max,
                              const char* type_name) {
  int lowest = kind == SharedKind::bounded_semaphore ? 1 : 0;
  if (value < lowest) {
    throw UsageError(std::string(type_name) + ": initial value " + std::to_string(value) +
                     " is not between " + std::to_string(lowest) + " and SEM_VALUE_MAX");
  }
  SharedHandle h = SharedHandle::create(kind, detail::kSemaphoreLayout, type_name);
  auto* s = new (h.state()) SemaphoreState{};
  s->value.store(static_cast<std::uint32_t>(value));
  s->max = max;
  return h;
}

SemaphoreState& state(const SharedHandle& h, const char* operation) {
  return *static_cast<SemaphoreState*>(h.checked(operation));
}

bool acquire_unit(const SharedHandle& h, const sys::Deadline& deadline, const char* operation) {
  int r = detail::semaphore_acquire(state(h, operation), deadline);
  if (r < 0) throw SystemError(std::string(operation) + ": futex wait", -r);
  return r == 1;
}

}  // namespace

Semaphore::Semaphore(int value)
    : handle_(create_semaphore(SharedKind::semaphore, value, kMax, "Semaphore")) {}

void Semaphore::acquire() {
  acquire_unit(handle_, sys::Deadline::never(), "Semaphore::acquire");
}

bool Semaphore::acquire(std::chrono::nanoseconds timeout) {
  return acquire_unit(handle_, sys::Deadline::after(timeout), "Semaphore::acquire");
}

bool Semaphore::try_acquire() {
  return detail::semaphore_try_acquire(state(handle_, "Semaphore::try_acquire"));
}

void Semaphore::release() {
  if (detail::semaphore_release(state(handle_, "Semaphore::release")) != 0) [[unlikely]]
    throw UsageError("Semaphore::release: the value would exceed SEM_VALUE_MAX");
}

int Semaphore::get_value() const {
  return static_cast<int>(state(handle_, "Semaphore::get_value").value.load());
}

int Semaphore::fd() const {
  return handle_.fd("Semaphore::fd");
}

Semaphore Semaphore::from_fd(int fd) {
  return Semaphore(
      SharedHandle::adopt(fd, SharedKind::semaphore, detail::kSemaphoreLayout, "Semaphore"));
}

BoundedSemaphore::BoundedSemaphore(int value)
    : handle_(create_semaphore(SharedKind::bounded_semaphore, value,
                               static_cast<std::uint32_t>(value), "BoundedSemaphore")) {}

void BoundedSemaphore::acquire() {
  acquire_unit(handle_, sys::Deadline::never(), "BoundedSemaphore::acquire");
}

bool BoundedSemaphore::acquire(std::chrono::nanoseconds timeout) {
  return acquire_unit(handle_, sys::Deadline::after(timeout), "BoundedSemaphore::acquire");
}

bool BoundedSemaphore::try_acquire() {
  return detail::semaphore_try_acquire(state(handle_, "BoundedSemaphore::try_acquire"));
}

void BoundedSemaphore::release() {
  SemaphoreState& s = state(handle_, "BoundedSemaphore::release");
  if (detail::semaphore_release(s) != 0) [[unlikely]] {
    throw UsageError(
        "BoundedSemaphore::release: released too many times (the value is already "
        "its maximum, " +
        std::to_string(s.max) + ")");
  }
}

int BoundedSemaphore::get_value() const {
  return static_cast<int>(state(handle_, "BoundedSemaphore::get_value").value.load());
}

int BoundedSemaphore::max_value() const {
  return static_cast<int>(state(handle_, "BoundedSemaphore::max_value").max);
}

int BoundedSemaphore::fd() const {
  return handle_.fd("BoundedSemaphore::fd");
}

BoundedSemaphore BoundedSemaphore::from_fd(int fd) {
  return BoundedSemaphore(SharedHandle::adopt(fd, SharedKind::bounded_semaphore,
                                              detail::kSemaphoreLayout, "BoundedSemaphore"));
}

}  // namespace multiproc
