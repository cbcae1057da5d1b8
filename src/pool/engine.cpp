// The engine (engine.hpp): construction, submission, dispatch, waiting and
// cancellation.
#include "pool/engine.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include "multiproc/error.hpp"
#include "sys/spin.hpp"

namespace multiproc::detail::pool {
namespace {

// How long a waiting thread collects results itself before it sleeps.
constexpr auto kHelpSpin = std::chrono::microseconds(50);

}  // namespace

Engine::Engine(PoolConfig config, std::unique_ptr<WorkerBackend> backend)
    : owner_(::getpid()),
      config_(std::move(config)),
      backend_(std::move(backend)),
      watchdog_(config_.task_timeout, config_.max_memory_per_child, config_.kill_task_over_memory),
      ledger_(config_.task_timeout),
      dispatcher_(config_.maxtasksperchild) {
  int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) throw SystemError("eventfd", errno);
  wake_fd_ = sys::UniqueFd(efd);
  sys::MutexLock lock(mu_);
  try {
    start_workers(config_.processes);
    manager_ = std::thread([this] { manager_loop(); });
  } catch (...) {
    kill_all_workers();
    workers_.clear();
    stop_manager_thread();
    mu_.unlock();
    backend_->stop();
    mu_.lock();
    throw;
  }
}

Engine::~Engine() = default;

std::uint32_t Engine::function_id(PoolRunner runner, const void* fn) {
  sys::MutexLock lock(mu_);
  return functions_.id(runner, fn);
}

std::shared_ptr<Job> Engine::open_job(std::uint32_t function, std::shared_ptr<ChunkSink> sink) {
  sys::MutexLock lock(mu_);
  if (!accepts_jobs(state_)) throw UsageError("Pool: the pool was closed");
  auto job = std::make_shared<Job>();
  job->sink = std::move(sink);
  job->function = function;
  return job;
}

void Engine::add_chunks(const std::shared_ptr<Job>& job, std::vector<PoolCore::Chunk> chunks) {
  sys::MutexLock lock(mu_);
  if (!accepts_chunks(state_)) throw UsageError("Pool: the pool was terminated or joined");
  ledger_.add(job, std::move(chunks));
  if (ledger_.broken()) notify();
  dispatch();
  if (!ledger_.pending().empty() && manager_sleeping_) wake_manager();
  run_callbacks();
}

void Engine::post(std::function<void()> fn) {
  mu_.assert_held();  // sinks run under the lock (pool_core.hpp)
  callbacks_.post(std::move(fn));
}

// ---- dispatch ------------------------------------------------------------------

void Engine::dispatch() {
  while (auto batch = dispatcher_.next(workers_, ledger_.pending())) {
    if (!send_batch(*batch->worker, batch->count)) return;
  }
}

bool Engine::send_batch(WorkerSlot& w, std::size_t n) {
  const std::deque<Task>& pending = ledger_.pending();
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t f = pending[i].job->function;
    if (w.functions.count(f) != 0) continue;
    const std::string& m = functions_.message(f);
    if (!w.handle->send(std::as_bytes(std::span(m.data(), m.size())))) return false;
    w.functions.insert(f);
  }
  TasksWriter out(static_cast<std::uint32_t>(n));
  for (std::size_t i = 0; i < n; ++i) {
    const Task& t = pending[i];
    out.add({t.id, t.job->function, t.count}, t.payload);
  }
  if (!w.handle->send(std::as_bytes(std::span(out.data().data(), out.data().size())))) {
    return false;
  }
  ledger_.hand_out(n, w.inflight);
  w.assigned += n;
  return true;
}

// ---- waiting -------------------------------------------------------------------

bool Engine::wait(const std::function<bool()>& done_fn, const Deadline& deadline) {
  sys::MutexLock lock(mu_);
  auto done = [&]() REQUIRES(mu_) { return done_fn() && callbacks_.settled(); };
  bool ok = done();
  if (!ok) {
    // Help: collect and dispatch while spinning, as the worker spins too,
    // for as long as results keep coming (then nothing needs waking up).
    auto spin_end = Clock::now() + kHelpSpin;
    ++spinning_;
    for (;;) {
      bool progress = collect() > 0;
      dispatch();
      run_callbacks();
      if ((ok = done())) break;
      auto now = Clock::now();
      if (progress) spin_end = now + kHelpSpin;
      if (now >= spin_end || (deadline && now >= *deadline)) break;
      mu_.unlock();
      for (int i = 0; i < 16; ++i) sys::cpu_relax();
      mu_.lock();
    }
    if (--spinning_ == 0 && manager_sleeping_) wake_manager();
    if (!ok && (!deadline || Clock::now() < *deadline)) {
      ++waiters_;
      while (!(ok = done())) {
        if (!deadline) {
          cv_.wait(mu_);
        } else if (!cv_.wait_until(mu_, *deadline)) {
          ok = done();
          break;
        }
      }
      --waiters_;
    }
  }
  run_callbacks();
  return ok;
}

// ---- cancellation -----------------------------------------------------------

bool Engine::cancel(Job& job, std::size_t chunk) {
  sys::MutexLock lock(mu_);
  if (ledger_.cancel_pending(job, chunk)) {
    notify();
    return true;
  }
  for (auto& w : workers_) {
    for (const Task& t : w->inflight) {
      if (t.job.get() != &job || t.chunk != chunk || !ledger_.drop(job, chunk)) continue;
      if (w->handle->running().task == t.id) {
        w->stop_now(KillReason::cancel);
      } else {
        w->handle->skip(t.id);
      }
      notify();
      return true;
    }
  }
  return false;
}

std::vector<pid_t> Engine::worker_pids() const {
  sys::MutexLock lock(mu_);
  std::vector<pid_t> out;
  for (const auto& w : workers_) out.push_back(w->pid);
  return out;
}

void Engine::wake_manager() {
  std::uint64_t one = 1;
  (void)!::write(wake_fd_.get(), &one, sizeof one);
}

}  // namespace multiproc::detail::pool
