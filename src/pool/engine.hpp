// The pool's engine: the parts (ledger, worker slots, dispatcher, watchdogs,
// callback executor, lifecycle) put together behind PoolCore, and the
// threads that drive them. One mutex, mu_, guards all of the engine's state
// (the annotations below say which field and which function; clang checks
// them); the workers share none of it, and reach the engine only through
// their backend (backend.hpp).
//
// Threads: callers (submit, wait, cancel, close, terminate, join), and the
// manager thread (manager.cpp), which sleeps in poll() on the workers'
// messages and deaths, buries dead workers, runs the watchdogs, replaces
// workers and dispatches. A waiting caller helps: it collects results while
// it spins, so a short task's round trip costs no thread wake-up.
//
// Files: engine.cpp (construction, submission, waiting, cancellation),
// roster.cpp (starting, collecting from and burying workers), manager.cpp,
// lifecycle.cpp (close, terminate, join).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <thread>
#include <vector>

#include "multiproc/detail/pool_core.hpp"
#include "pool/backend.hpp"
#include "pool/callback_executor.hpp"
#include "pool/dispatcher.hpp"
#include "pool/function_table.hpp"
#include "pool/ledger.hpp"
#include "pool/lifecycle.hpp"
#include "pool/watchdog.hpp"
#include "pool/worker_slot.hpp"
#include "sys/mutex.hpp"
#include "sys/unique_fd.hpp"

namespace multiproc::detail::pool {

class Engine {
 public:
  using Clock = PoolCore::Clock;
  using Deadline = PoolCore::Deadline;

  // Starts config.processes workers through `backend`, then the manager.
  Engine(PoolConfig config, std::unique_ptr<WorkerBackend> backend);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // ---- PoolCore's API (pool_core.hpp says what each does) -----------------
  std::size_t processes() const noexcept { return config_.processes; }
  std::uint32_t function_id(PoolRunner runner, const void* fn) EXCLUDES(mu_);
  std::shared_ptr<Job> open_job(std::uint32_t function, std::shared_ptr<ChunkSink> sink)
      EXCLUDES(mu_);
  void add_chunks(const std::shared_ptr<Job>& job, std::vector<PoolCore::Chunk> chunks)
      EXCLUDES(mu_);
  bool wait(const std::function<bool()>& done, const Deadline& deadline) EXCLUDES(mu_);
  // Called by sinks, which run with mu_ held.
  void post(std::function<void()> fn);
  void run_locked(const std::function<void()>& fn) EXCLUDES(mu_) {
    sys::MutexLock lock(mu_);
    fn();
  }
  bool cancel(Job& job, std::size_t chunk) EXCLUDES(mu_);
  void close() EXCLUDES(mu_);
  void terminate() EXCLUDES(mu_);
  // Interrupted when `stop` is requested before every task ended.
  void join(const std::stop_token& stop) EXCLUDES(mu_);
  std::vector<pid_t> worker_pids() const EXCLUDES(mu_);

 private:
  // ---- workers (roster.cpp) -----------------------------------------------
  void start_workers(std::size_t n) REQUIRES(mu_);
  void refill_workers() REQUIRES(mu_);
  void break_pool(std::exception_ptr why) REQUIRES(mu_);
  // Reads what the workers posted; returns how many messages.
  std::size_t collect() REQUIRES(mu_);
  std::size_t drain(WorkerSlot& w) REQUIRES(mu_);
  void handle_message(WorkerSlot& w, std::span<const std::byte> bytes) REQUIRES(mu_);
  void bury(std::size_t index) REQUIRES(mu_);
  void bury_dead() REQUIRES(mu_);
  void kill_all_workers() REQUIRES(mu_);

  // ---- dispatch (engine.cpp) ---------------------------------------------
  void dispatch() REQUIRES(mu_);
  bool send_batch(WorkerSlot& w, std::size_t n) REQUIRES(mu_);

  // ---- wake-ups ------------------------------------------------------------
  void notify() REQUIRES(mu_) {
    if (waiters_ > 0) cv_.notify_all();
  }
  void run_callbacks() REQUIRES(mu_) {
    if (callbacks_.run(mu_)) notify();
  }
  void wake_manager();
  void manager_loop() EXCLUDES(mu_);  // manager.cpp

  // ---- shutdown (lifecycle.cpp) -------------------------------------------
  bool wait_workers_gone(Clock::time_point deadline) REQUIRES(mu_);
  void stop_manager_thread() REQUIRES(mu_);
  bool all_tasks_ended() const REQUIRES(mu_);

  // A worker (or a fork) inherits a copy of this object; only the process
  // that made the pool may act on it.
  const pid_t owner_;
  PoolConfig config_;  // complete and constant once constructed
  // start() and close() under mu_; stop() once the manager ended.
  std::unique_ptr<WorkerBackend> backend_;
  const Watchdog watchdog_;
  sys::UniqueFd wake_fd_;  // an eventfd: wakes the manager's poll()
  std::thread manager_;

  mutable sys::Mutex mu_;
  sys::CondVar cv_;
  int waiters_ GUARDED_BY(mu_) = 0;   // threads in cv_.wait
  int spinning_ GUARDED_BY(mu_) = 0;  // threads collecting in wait()
  bool manager_sleeping_ GUARDED_BY(mu_) = false;
  bool stop_manager_ GUARDED_BY(mu_) = false;
  PoolState state_ GUARDED_BY(mu_) = PoolState::running;
  Ledger ledger_ GUARDED_BY(mu_);
  std::vector<std::unique_ptr<WorkerSlot>> workers_ GUARDED_BY(mu_);
  Dispatcher dispatcher_ GUARDED_BY(mu_);
  FunctionTable functions_ GUARDED_BY(mu_);
  CallbackExecutor callbacks_ GUARDED_BY(mu_);
};

}  // namespace multiproc::detail::pool
