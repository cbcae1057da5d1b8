// The local worker backend (local_backend.hpp) and its worker handle.
#include "pool/local_backend.hpp"

#include <unistd.h>

#include <csignal>
#include <string>

#include "multiproc/init.hpp"
#include "multiproc/process.hpp"
#include "pool/control_block.hpp"
#include "pool/worker.hpp"
#include "process/launcher.hpp"
#include "start/forkserver.hpp"
#include "start/zygote_client.hpp"
#include "sys/proc_fs.hpp"

namespace multiproc::detail::pool {
namespace {

// How long an idle worker watches its channel before it sleeps.
constexpr std::uint64_t kWorkerIdleSpinNs = 50'000;

class LocalWorker final : public WorkerHandle {
 public:
  LocalWorker(std::unique_ptr<Process> process, WorkerChannels channels)
      : process_(std::move(process)),
        channels_(std::move(channels)),
        control_(new (channels_.control.buf().data()) ControlBlock) {}

  // The process is made but not started: the backend starts it.
  Process& process() { return *process_; }
  void started() { pid_ = *process_->pid(); }

  pid_t pid() const noexcept override { return pid_; }

  bool send(std::span<const std::byte> message) override {
    return channels_.tasks->put(message, std::chrono::steady_clock::now());
  }
  bool receive(std::string& message) override {
    if (channels_.results->qsize() == 0) return false;
    return channels_.results->get(
        [](void* out, std::span<const std::byte> b) {
          static_cast<std::string*>(out)->assign(reinterpret_cast<const char*>(b.data()), b.size());
        },
        &message, std::chrono::steady_clock::now());
  }
  int watch_messages(bool& ready) override {
    channels_.results->add_poller();
    ready = channels_.results->ready();
    return channels_.results->eventfd();
  }
  void unwatch_messages() override { channels_.results->remove_poller(); }

  std::uint64_t tasks_started() const noexcept override {
    return control_->started.load(std::memory_order_acquire);
  }
  Running running() const noexcept override {
    std::uint64_t task = control_->current_task.load(std::memory_order_acquire);
    if (task == 0) return {};
    std::int64_t since = control_->current_since_ns.load(std::memory_order_relaxed);
    // The worker may have moved on between the two loads.
    if (control_->current_task.load(std::memory_order_acquire) != task) return {};
    return {task, since};
  }
  std::uint32_t running_item() const noexcept override {
    return control_->current_item.load(std::memory_order_relaxed);
  }
  void skip(std::uint64_t task) noexcept override { control_->cancel(task); }
  std::uint64_t resident_bytes() const override { return sys::proc::resident_bytes(pid_); }

  int death_fd() const override { return process_->sentinel(); }
  void terminate() noexcept override {
    try {
      process_->terminate();
    } catch (...) {
      // Already reaped: its death is being handled.
    }
  }
  void kill() noexcept override {
    try {
      process_->kill();
    } catch (...) {
    }
  }
  bool wait_exit(std::optional<std::chrono::nanoseconds> timeout) override {
    if (!timeout) {
      process_->join();
      return true;
    }
    return process_->join(*timeout);
  }
  ExitStatus reap() override {
    try {
      process_->join();
    } catch (...) {
    }
    return process_->exit_status().value_or(ExitStatus::killed_by(SIGKILL));
  }

 private:
  std::unique_ptr<Process> process_;
  pid_t pid_ = 0;
  WorkerChannels channels_;
  ControlBlock* control_;
};

}  // namespace

LocalBackend::LocalBackend(const PoolConfig& config)
    : config_(config), method_(config.start_method.value_or(get_start_method())) {
  if (method_ == StartMethod::fork && !forkserver_pid()) {
    // The first workers are forked directly, while the process has one
    // thread, and so is the pool's zygote, which forks every replacement
    // later. When the program runs a forkserver, replacements come from it
    // instead (docs/pool.md: it saves a fork and an exit per pool).
    zygote_ = std::make_unique<ZygoteClient>("Pool (fork)", false);
    zygote_->set_start_hint(
        "create the Pool before starting threads, or use the forkserver or spawn start method");
  }
}

LocalBackend::~LocalBackend() {
  stop();
}

std::vector<std::unique_ptr<WorkerHandle>> LocalBackend::start(std::size_t n) {
  bool initial = first_;
  first_ = false;
  WorkerLimits limits{config_.maxtasksperchild, config_.max_memory_per_child, kWorkerIdleSpinNs,
                      config_.kill_task_leftovers ? 1U : 0U};
  std::vector<std::unique_ptr<LocalWorker>> fresh;
  for (std::size_t i = 0; i < n; ++i) {
    WorkerChannels channels{make_channel(), make_channel(), SharedMemory(sizeof(ControlBlock))};
    ProcessOptions options;
    options.name = config_.name + "-" + std::to_string(next_number_++);
    options.daemon = true;
    options.parent_decides_signals = true;  // group signals are the parent's to act on
    options.contain = config_.contain;
    options.start_method =
        method_ == StartMethod::fork && !initial ? StartMethod::forkserver : method_;
    auto process = std::make_unique<Process>(
        std::move(options), std::make_unique<WorkerTarget>(channels, limits, config_.initializer));
    fresh.push_back(std::make_unique<LocalWorker>(std::move(process), std::move(channels)));
  }
  if (zygote_ && !initial) {
    // Through a zygote, every request goes out at once.
    std::vector<Process*> ps;
    for (auto& w : fresh) ps.push_back(&w->process());
    ProcessLauncher::start_via_zygote(ps, *zygote_);
  } else {
    for (auto& w : fresh) w->process().start();
  }
  // After the first workers: every fork copies the page tables of what
  // exists, and every write here after a fork costs a copy-on-write. Its
  // hello is read at the first replacement.
  if (initial && zygote_) zygote_->start_async();
  std::vector<std::unique_ptr<WorkerHandle>> out;
  for (auto& w : fresh) {
    w->started();
    out.push_back(std::move(w));
  }
  return out;
}

void LocalBackend::close() noexcept {
  if (zygote_) zygote_->close_channel();
}

void LocalBackend::stop() noexcept {
  if (zygote_) zygote_->stop();
}

}  // namespace multiproc::detail::pool
