// multiproc/shared_memory.hpp — a block of bytes shared between processes.
//
//   mp::SharedMemory shm(1 << 20);                 // anonymous (memfd): the default
//   mp::Process p([](mp::SharedMemory m) { std::ranges::fill(m.buf(), std::byte{1}); }, shm);
//
//   auto named = mp::SharedMemory::create("/frames", 1 << 20);  // in /dev/shm, tracked
//   auto fresh = mp::SharedMemory::create(4096);   // named too: fresh.name() is generated
//   auto other = mp::SharedMemory::attach("/frames");           // any process, by name
//   named.unlink();                                // the name goes; mappings stay valid
//
// Anonymous segments (the default) have no name anywhere: they reach forked
// children through the mapping itself, and other processes through fd()
// (SharedMemory::from_fd on the other side). Nothing can outlive the last
// process that maps them, SIGKILL included.
//
// Named segments (create/attach, POSIX shm_open in /dev/shm, opened
// close-on-exec) are for processes that find each other by name. Lifetime of
// the name: it is removed by unlink(), or, at the latest, as soon as no
// tracked handle remains: the handle create() returned, its copies, and the
// copies that forked children received as Process arguments (or inherited
// through a plain fork). That holds when every one of those processes is
// SIGKILLed: a tracker process, started by create(), removes the name then
// (see docs/shared-memory.md). Handles from attach() are not tracked: a
// process that attached keeps its mapping after the name is gone, but the
// name does not wait for it. The memory itself lives while any process maps
// it or holds its descriptor.
//
// A handle is a cheap reference: copies refer to the same segment. Pass the
// handle as a Process argument so that its descriptors stay open in the
// child (for a named segment, that is also what makes the child a tracked
// user).
//
// Thread safety: a handle may be used by any number of threads at once; the
// bytes are the caller's to synchronise (with a Lock, a Semaphore, ...).
// Async-signal safety: buf() and size() are; nothing else is.
// Fork safety: create() forks the tracker with _Fork and runs only
// async-signal-safe code in it, so it also works in a multi-threaded process.
// Destruction: dropping the last handle in a process unmaps the segment
// there (and, for the creator's handle, gives up its share of the name).
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include "multiproc/detail/wire_fwd.hpp"

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace multiproc {

class SharedMemory {
 public:
  // An anonymous, zero-filled segment of `size` bytes (1 byte to 1 TiB, else
  // UsageError).
  explicit SharedMemory(std::size_t size);

  // Creates the named segment `name` ("/name" or "name"; no other '/', at
  // most 253 characters) of `size` bytes, zero-filled, and its tracker.
  // Throws SystemError (EEXIST when the name is taken) or UsageError.
  static SharedMemory create(std::string_view name, std::size_t size);
  // As create(name, size), with a fresh name ("/mp-<pid>-<random hex>", as
  // Python's SharedMemory(create=True) without a name makes "psm_<hex>"):
  // tracked like any named segment; name() says what it is, for attach()
  // elsewhere.
  static SharedMemory create(std::size_t size);
  // Opens the existing named segment `name`. Throws SystemError (ENOENT when
  // there is none) or UsageError.
  static SharedMemory attach(std::string_view name);
  // A handle to the segment behind `fd` (from fd() in some process;
  // duplicated, the caller keeps its own). UsageError if it cannot be one.
  static SharedMemory from_fd(int fd);

  // The bytes.
  std::span<std::byte> buf() const;
  std::size_t size() const;
  // "/name" for a named segment, empty for an anonymous one.
  const std::string& name() const;
  // The segment's descriptor (close-on-exec), for passing to another process.
  int fd() const;
  // Removes the name from /dev/shm now (Python's unlink()). Processes that
  // have the segment keep it. UsageError for an anonymous segment;
  // SystemError (ENOENT) when the name is already gone.
  void unlink();

  // The tracker process of a segment this handle (or the handle it was
  // copied from) created; nullopt otherwise. For diagnostics and tests: the
  // tracker is not this process's child.
  std::optional<pid_t> tracker_pid() const;

  // A Process argument keeps these open in the child: the segment's
  // descriptor and, for a tracked segment, the tracker's pipe.
  void multiproc_descriptors(std::vector<int>& out) const;
  // Crossing into a spawned or forkserver child as descriptors (detail/wire.hpp).
  void multiproc_export(detail::WireWriter& w) const;
  static SharedMemory multiproc_import(detail::WireReader& r);

 private:
  struct State;
  explicit SharedMemory(std::shared_ptr<State> state) noexcept;
  const State& state(const char* operation) const;

  std::shared_ptr<State> state_;
};

}  // namespace multiproc
