// How each non-template shared object crosses into a spawned or forkserver
// child: as its descriptors (detail/wire.hpp). The importer duplicates what
// it keeps; the received descriptors themselves are closed after decoding.
// The locks and semaphores cross in src/sync (lock.cpp, semaphore.cpp), where
// one template serves each pair.
//
// What does not cross: a Barrier's action (a std::function has no meaning in
// another process; give from_fd one there) and a SharedMemory's name (the
// child's handle is anonymous; the segment is the same).
#include "multiproc/barrier.hpp"
#include "multiproc/condition.hpp"
#include "multiproc/connection.hpp"
#include "multiproc/detail/wire.hpp"
#include "multiproc/event.hpp"
#include "multiproc/lock.hpp"
#include "multiproc/shared_memory.hpp"

namespace multiproc {

void Event::multiproc_export(detail::WireWriter& w) const {
  w.fd(fd());
}
Event Event::multiproc_import(detail::WireReader& r) {
  return from_fd(r.fd());
}

void SharedMemory::multiproc_export(detail::WireWriter& w) const {
  w.fd(fd());
}
SharedMemory SharedMemory::multiproc_import(detail::WireReader& r) {
  return from_fd(r.fd());
}

void Barrier::multiproc_export(detail::WireWriter& w) const {
  w.fd(fd());
  w.u32(timeout_ ? 1 : 0);
  w.u64(timeout_ ? static_cast<std::uint64_t>(timeout_->count()) : 0);
}
Barrier Barrier::multiproc_import(detail::WireReader& r) {
  int fd = r.fd();
  std::uint32_t has_timeout = r.u32();
  auto ns = static_cast<std::int64_t>(r.u64());
  if (has_timeout > 1 || ns < 0) throw DecodeError("multiproc: corrupt Barrier in a task message");
  std::optional<std::chrono::nanoseconds> timeout;
  if (has_timeout == 1) timeout = std::chrono::nanoseconds(ns);
  return from_fd(fd, {}, timeout);
}

void Condition::multiproc_export(detail::WireWriter& w) const {
  w.fd(fd());
  w.u32(static_cast<std::uint32_t>(lock_.index()));
  std::visit([&w](const auto& lock) { lock.multiproc_export(w); }, lock_);
}
Condition Condition::multiproc_import(detail::WireReader& r) {
  int fd = r.fd();
  switch (r.u32()) {
    case 0:
      return from_fd(fd, Lock::multiproc_import(r));
    case 1:
      return from_fd(fd, RLock::multiproc_import(r));
    default:
      throw DecodeError("multiproc: corrupt Condition in a task message");
  }
}

void Connection::multiproc_export(detail::WireWriter& w) const {
  require(true, "sending a Connection to a child");
  w.fd(fd_);
  w.u32((readable_ ? 1U : 0U) | (writable_ ? 2U : 0U));
}
Connection Connection::multiproc_import(detail::WireReader& r) {
  int fd = r.fd();
  std::uint32_t mode = r.u32();
  if (mode > 3) throw DecodeError("multiproc: corrupt Connection in a task message");
  int copy = detail::dup_received(fd);
  try {
    return from_fd(copy, (mode & 1U) != 0, (mode & 2U) != 0);
  } catch (...) {
    ::close(copy);
    throw;
  }
}

void AnyLock::multiproc_export(detail::WireWriter& w) const {
  if (const auto* r = std::get_if<RLock>(&lock_)) {
    w.u32(1);
    r->multiproc_export(w);
  } else {
    w.u32(2);
    std::get<Lock>(lock_).multiproc_export(w);
  }
}

AnyLock AnyLock::multiproc_import(detail::WireReader& r) {
  std::uint32_t kind = r.u32();
  if (kind == 1) return AnyLock(RLock::multiproc_import(r));
  if (kind == 2) return AnyLock(Lock::multiproc_import(r));
  throw DecodeError("multiproc: corrupt lock kind in a task message");
}

void detail::export_with_lock(WireWriter& w, int fd, const std::optional<AnyLock>& lock) {
  w.fd(fd);
  if (lock) {
    lock->multiproc_export(w);  // kind 1 or 2, then the lock
  } else {
    w.u32(0);
  }
}

std::optional<AnyLock> detail::import_lock(WireReader& r) {
  std::uint32_t kind = r.u32();
  if (kind == 0) return std::nullopt;
  if (kind == 1) return AnyLock(RLock::multiproc_import(r));
  if (kind == 2) return AnyLock(Lock::multiproc_import(r));
  throw DecodeError("multiproc: corrupt lock kind in a task message");
}

}  // namespace multiproc
