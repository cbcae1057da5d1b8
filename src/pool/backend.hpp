// The worker-backend seam: all the engine knows about where and how its
// workers run. The engine (ledger, dispatcher, watchdogs, lifecycle) talks to
// workers only through these two interfaces; local_backend.* implements them
// for workers on this machine (fork zygote, forkserver, spawn), and a backend
// whose workers live elsewhere (an MPI node agent, say) implements the same
// two classes. docs/architecture.md lists what a backend must guarantee.
//
// Threads: the engine calls every method with its lock held, from one thread
// at a time, except WorkerBackend::stop() and WorkerHandle::wait_exit() in
// join(), which it calls without the lock once the manager stopped using the
// handle. No method may call back into the engine.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "multiproc/exit_status.hpp"

namespace multiproc::detail::pool {

// One worker, as the engine sees it. Messages are those of protocol.hpp;
// the channel each way has one writer and one reader, in order, and a
// message is delivered whole or not at all.
class WorkerHandle {
 public:
  virtual ~WorkerHandle() = default;

  // The worker's process id: errors name it.
  virtual pid_t pid() const noexcept = 0;

  // ---- messages --------------------------------------------------------

  // Queues one message for the worker without blocking; false when its
  // channel is full (the engine tries again later) or the worker is gone.
  virtual bool send(std::span<const std::byte> message) = 0;
  // Takes the next message the worker posted, without blocking; false if
  // none is waiting. Called on the hot path: keep it cheap.
  virtual bool receive(std::string& message) = 0;
  // For the manager's poll(): arms a wake-up for the next message and
  // returns the descriptor that becomes readable then; `ready` is set when a
  // message is waiting already. Each watch is followed by one unwatch.
  virtual int watch_messages(bool& ready) = 0;
  virtual void unwatch_messages() = 0;

  // ---- progress (read while the worker runs) ----------------------------

  // Tasks the worker has taken so far, in the order they were sent; each is
  // followed by exactly one RESULT unless the worker dies first.
  virtual std::uint64_t tasks_started() const noexcept = 0;
  struct Running {
    std::uint64_t task = 0;     // 0: none running now
    std::int64_t since_ns = 0;  // CLOCK_MONOTONIC when it started
  };
  virtual Running running() const noexcept = 0;
  // After the worker ended: the index, in its task, of the item it was
  // running when it died.
  virtual std::uint32_t running_item() const noexcept = 0;
  // A task sent to the worker and then cancelled: the worker skips it
  // (RESULT with status skipped) unless it started already.
  virtual void skip(std::uint64_t task) noexcept = 0;
  // Resident memory in bytes (0: unknown).
  virtual std::uint64_t resident_bytes() const = 0;

  // ---- lifetime --------------------------------------------------------

  // Readable once the worker ended (never before).
  virtual int death_fd() const = 0;
  // Asks the worker to stop (SIGTERM), or stops it at once (SIGKILL).
  // Neither blocks; a worker that already ended is no error.
  virtual void terminate() noexcept = 0;
  virtual void kill() noexcept = 0;
  // Waits until the worker ended (a timeout: at most that long); true if
  // it did.
  virtual bool wait_exit(std::optional<std::chrono::nanoseconds> timeout) = 0;
  // How it ended; call once it ended. Releases what the worker held.
  virtual ExitStatus reap() = 0;
};

// Where workers come from.
class WorkerBackend {
 public:
  virtual ~WorkerBackend() = default;
  // Starts `n` workers, all at once where the backend can (one round trip to
  // a zygote, say). Each runs the pool's initializer, then serves the
  // protocol. Throws when it cannot start them; the engine then fails every
  // task if it has no worker left.
  virtual std::vector<std::unique_ptr<WorkerHandle>> start(std::size_t n) = 0;
  // No worker will be started again: release early what starts them (the
  // engine's shutdown overlaps it with the workers' exits).
  virtual void close() noexcept = 0;
  // Every worker ended: release everything. Called without the lock.
  virtual void stop() noexcept = 0;
};

}  // namespace multiproc::detail::pool
