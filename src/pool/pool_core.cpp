// PoolCore, the untyped front of the engine that pool.hpp's templates call:
// it completes the configuration, picks the backend and forwards to the
// engine (engine.hpp).
#include "multiproc/detail/pool_core.hpp"

#include <sched.h>
#include <unistd.h>

#include "multiproc/error.hpp"
#include "multiproc/init.hpp"
#include "pool/engine.hpp"
#include "pool/local_backend.hpp"
#include "start/fork_launcher.hpp"

namespace multiproc::detail {

struct PoolCore::Impl final : pool::Engine {
  using pool::Engine::Engine;
};

namespace {

std::size_t cpus_available() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<std::size_t>(n);
  }
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<std::size_t>(n) : 1;
}

PoolConfig complete(PoolConfig config) {
  if (config.processes == 0) config.processes = cpus_available();
  if (config.name.empty()) config.name = "PoolWorker";
  StartMethod method = config.start_method.value_or(get_start_method());
  if (method != StartMethod::fork && !initialized()) {
    throw UsageError("Pool: the " + std::string(to_string(method)) +
                     " start method needs multiproc::init(argc, argv) as the first statement of "
                     "main (see init.hpp)");
  }
  if (method == StartMethod::fork) {
    // Checked here, before the engine's own threads start, so that the
    // refusal gives a Pool's fix rather than a Process's.
    int threads = threads_unsafe_for_fork();
    if (threads > 1) throw ForkUnsafeError(threads, ForkUnsafeError::Caller::pool);
  }
  config.start_method = method;
  return config;
}

}  // namespace

PoolCore::PoolCore(PoolConfig config) {
  config = complete(std::move(config));
  auto backend = std::make_unique<pool::LocalBackend>(config);
  impl_ = std::make_unique<Impl>(std::move(config), std::move(backend));
}

PoolCore::~PoolCore() {
  terminate();
}

std::size_t PoolCore::processes() const noexcept {
  return impl_->processes();
}

std::uint32_t PoolCore::function_id(PoolRunner runner, const void* fn) {
  return impl_->function_id(runner, fn);
}

std::shared_ptr<PoolCore::Job> PoolCore::open_job(std::uint32_t function,
                                                  std::shared_ptr<ChunkSink> sink) {
  return impl_->open_job(function, std::move(sink));
}

void PoolCore::add_chunks(const std::shared_ptr<Job>& job, std::vector<Chunk> chunks, bool) {
  impl_->add_chunks(job, std::move(chunks));
}

std::size_t PoolCore::unfinished(const Job& job) noexcept {
  return job.unfinished.load(std::memory_order_relaxed);
}

bool PoolCore::wait(const std::function<bool()>& done, const Deadline& deadline) {
  return impl_->wait(done, deadline);
}

void PoolCore::post(std::function<void()> fn) {
  impl_->post(std::move(fn));
}

void PoolCore::run_locked(const std::function<void()>& fn) {
  impl_->run_locked(fn);
}

bool PoolCore::cancel(Job& job, std::size_t chunk) {
  return impl_->cancel(job, chunk);
}

void PoolCore::close() {
  impl_->close();
}

void PoolCore::terminate() {
  if (impl_) impl_->terminate();
}

void PoolCore::join(const std::stop_token& stop) {
  impl_->join(stop);
}

std::vector<pid_t> PoolCore::worker_pids() const {
  return impl_->worker_pids();
}

}  // namespace multiproc::detail
