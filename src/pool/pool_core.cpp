// The Pool's engine (docs/pool.md has the design). One mutex guards all of
// the parent's state; the workers share none of it. A manager thread
// watches the workers' pidfds and result channels, kills tasks past their
// deadline and replaces dead workers; threads waiting for results help by
// collecting them while they spin, so a short task's round trip costs no
// thread wake-up in the parent.
#include "multiproc/detail/pool_core.hpp"

#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "multiproc/error.hpp"
#include "multiproc/init.hpp"
#include "multiproc/process.hpp"
#include "pool/control_block.hpp"
#include "pool/protocol.hpp"
#include "pool/worker.hpp"
#include "start/forkserver.hpp"
#include "start/zygote_client.hpp"
#include "sys/spin.hpp"
#include "sys/unique_fd.hpp"

namespace multiproc::detail {

struct PoolCore::Job {
  std::shared_ptr<ChunkSink> sink;
  std::uint32_t function = 0;
  std::atomic<std::size_t> unfinished{0};
  std::size_t next_chunk = 0;
  std::set<std::size_t> dropped;  // cancelled chunks whose late outcome is ignored
};

namespace {

using pool::ControlBlock;
using pool::Kind;
using pool::Status;

// How long a waiting thread collects results itself before it sleeps, and
// how long an idle worker watches its channel before it sleeps.
constexpr auto kHelpSpin = std::chrono::microseconds(50);
constexpr std::uint64_t kWorkerIdleSpinNs = 50'000;
// Tasks queued to one worker: enough to hide a round trip, few enough that
// one slow task holds back little (adapted to the measured task time).
constexpr std::size_t kMinInflight = 2;
constexpr std::size_t kMaxInflight = 1024;
constexpr double kInflightBudgetNs = 500'000;
constexpr std::size_t kMaxBatchBytes = std::size_t{4} << 20;
// How often a busy worker's memory is sampled when there is a limit.
constexpr auto kMemoryPoll = std::chrono::milliseconds(50);
// How often the manager looks for dispatched tasks that started, when their
// deadlines matter.
constexpr int kStartPollMs = 10;

struct TaskRef {
  std::shared_ptr<PoolCore::Job> job;
  std::size_t chunk = 0;
  std::uint64_t id = 0;
  std::string payload;
  std::uint32_t count = 0;
};

enum class KillReason { none, timeout, cancel, memory, protocol, terminate };

struct WorkerSlot {
  explicit WorkerSlot(pool::WorkerChannels c)
      : channels(std::move(c)), control(new (channels.control.buf().data()) ControlBlock) {}

  std::unique_ptr<Process> process;
  pid_t pid = 0;
  pool::WorkerChannels channels;
  ControlBlock* control = nullptr;
  std::deque<TaskRef> inflight;  // dispatched, in the order the worker runs them
  std::uint64_t results_seen = 0;
  std::set<std::uint32_t> functions;  // defined in this worker
  std::size_t assigned = 0;           // tasks ever dispatched (maxtasksperchild)
  bool retiring = false;              // will exit after what it has
  bool stopping = false;              // sent STOP
  bool dead = false;                  // its pidfd became readable
  KillReason kill = KillReason::none;
  std::string kill_detail;
};

std::size_t cpus_available() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<std::size_t>(n);
  }
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<std::size_t>(n) : 1;
}

std::exception_ptr cancelled(const char* why) {
  return std::make_exception_ptr(CancelledError(why));
}

}  // namespace

struct PoolCore::Impl {
  enum class State { running, closed, terminating, joined };

  // A worker (or a fork) inherits a copy of this object; only the process
  // that made the pool may act on it.
  const pid_t owner = ::getpid();
  PoolConfig config;
  StartMethod method = StartMethod::fork;
  std::unique_ptr<ZygoteClient> zygote;

  std::mutex mu;
  std::condition_variable cv;
  int waiters = 0;
  int spinning = 0;
  bool manager_sleeping = false;
  sys::UniqueFd wake_fd;
  std::thread manager;
  bool stop_manager = false;

  State state = State::running;
  std::exception_ptr broken;  // set when workers cannot run tasks at all
  std::vector<std::unique_ptr<WorkerSlot>> workers;
  std::deque<TaskRef> pending;
  std::uint64_t next_task = 1;
  std::size_t next_worker_number = 1;

  std::map<std::pair<PoolRunner, const void*>, std::uint32_t> function_ids;
  std::vector<std::string> function_messages;  // index id - 1
  double average_task_ns = 0;
  std::size_t inflight_limit = kMinInflight;
  std::vector<std::function<void()>> posted;
  bool running_callbacks = false;
  std::thread::id callback_runner;

  // ---- workers ------------------------------------------------------------

  // A worker slot whose process is made but not started. With the fork
  // method the first workers are forked from the parent itself (it has one
  // thread until the manager starts); replacements come from the zygote.
  std::unique_ptr<WorkerSlot> make_worker(bool initial) {
    auto w = std::make_unique<WorkerSlot>(pool::WorkerChannels{
        pool::make_channel(), pool::make_channel(), SharedMemory(sizeof(ControlBlock))});
    pool::WorkerLimits limits{config.maxtasksperchild, config.max_memory_per_child,
                              kWorkerIdleSpinNs};
    ProcessOptions options;
    options.name = config.name + "-" + std::to_string(next_worker_number++);
    options.daemon = true;
    options.ignore_sigint = true;  // Ctrl-C is the parent's to act on
    bool direct_fork = method == StartMethod::fork && initial;
    options.start_method =
        method == StartMethod::fork && !initial ? StartMethod::forkserver : method;
    w->process = std::make_unique<Process>(
        std::move(options),
        std::make_unique<pool::WorkerTarget>(w->channels, limits, config.initializer));
    if (zygote && !direct_fork) use_zygote(*w->process, zygote.get());
    return w;
  }

  // Starts `n` workers; through a zygote, all requests go out at once.
  void start_workers(std::size_t n, bool initial = false) {
    std::vector<std::unique_ptr<WorkerSlot>> fresh;
    for (std::size_t i = 0; i < n; ++i) fresh.push_back(make_worker(initial));
    if (zygote && !initial) {
      std::vector<Process*> ps;
      for (auto& w : fresh) ps.push_back(w->process.get());
      start_via_zygote(ps, *zygote);
    } else {
      for (auto& w : fresh) w->process->start();
    }
    for (auto& w : fresh) {
      w->pid = *w->process->pid();
      workers.push_back(std::move(w));
    }
  }

  void start_worker() { start_workers(1); }

  // Keeps `processes` workers while there is, or may be, work.
  void refill_workers() {
    if (broken || state == State::terminating || state == State::joined) return;
    if (state == State::closed && pending.empty()) return;
    while (workers.size() < config.processes) {
      try {
        start_worker();
      } catch (...) {
        // No way to start workers (a dead zygote, say): fail everything now
        // rather than wait for workers that will never come.
        if (workers.empty()) break_pool(std::current_exception());
        return;
      }
    }
  }

  void break_pool(std::exception_ptr why) {
    broken = why;
    while (!pending.empty()) {
      end_task(pending.front(), why);
      pending.pop_front();
    }
  }

  // ---- results ------------------------------------------------------------

  // Ends a task with an error (unless its chunk was cancelled already).
  void end_task(const TaskRef& t, std::exception_ptr error) {
    Job& job = *t.job;
    if (job.dropped.erase(t.chunk) == 0) {
      job.sink->fail(t.chunk, error);
      job.unfinished.fetch_sub(1, std::memory_order_relaxed);
    }
    notify();
  }

  void end_task_ok(const TaskRef& t, std::span<const std::byte> results) {
    Job& job = *t.job;
    if (job.dropped.erase(t.chunk) == 0) {
      WireReader in(results, {});
      job.sink->deliver(t.chunk, in, t.count);
      job.unfinished.fetch_sub(1, std::memory_order_relaxed);
    }
    notify();
  }

  void notify() {
    if (waiters > 0) cv.notify_all();
  }

  void learn_duration(std::uint64_t ns) {
    double x = static_cast<double>(ns);
    average_task_ns = average_task_ns == 0 ? x : average_task_ns + (x - average_task_ns) / 8;
    double n = kInflightBudgetNs / std::max(average_task_ns, 1.0);
    inflight_limit = std::clamp(static_cast<std::size_t>(n), kMinInflight, kMaxInflight);
  }

  void handle_message(WorkerSlot& w, std::span<const std::byte> bytes) {
    pool::WorkerMessage msg = pool::decode_worker_message(bytes);
    switch (msg.kind) {
      case Kind::result: {
        pool::ResultMessage& m = msg.result;
        if (w.inflight.empty() || w.inflight.front().id != m.task) {
          throw DecodeError("multiproc: pool worker answered a task it was not given");
        }
        TaskRef t = std::move(w.inflight.front());
        w.inflight.pop_front();
        ++w.results_seen;
        if (m.status != Status::skipped) learn_duration(m.duration_ns);
        if (m.status == Status::ok) {
          end_task_ok(t, m.results);
        } else if (m.status == Status::error) {
          ExceptionInfo info{std::move(m.type), std::move(m.message), w.pid};
          end_task(t, std::make_exception_ptr(RemoteError(std::move(info))));
        } else {
          end_task(t, cancelled("the task was cancelled"));
        }
        return;
      }
      case Kind::retire:
        w.retiring = true;
        return;
      default: {  // init_failed
        ExceptionInfo info{std::move(msg.type), std::move(msg.message), w.pid};
        w.retiring = true;
        break_pool(std::make_exception_ptr(RemoteError(std::move(info))));
        return;
      }
    }
  }

  // Reads what `w` posted; returns how many messages. A malformed message
  // gets the worker killed.
  std::size_t drain(WorkerSlot& w) {
    std::size_t handled = 0;
    while (w.channels.results->qsize() > 0) {
      std::string bytes;
      bool got = w.channels.results->get(
          [](void* out, std::span<const std::byte> b) {
            static_cast<std::string*>(out)->assign(reinterpret_cast<const char*>(b.data()),
                                                   b.size());
          },
          &bytes, PoolCore::Clock::now());
      if (!got) break;
      ++handled;
      try {
        handle_message(w, std::as_bytes(std::span(bytes.data(), bytes.size())));
      } catch (const DecodeError& e) {
        kill(w, KillReason::protocol, e.what());
        break;
      }
    }
    return handled;
  }

  std::size_t collect() {
    std::size_t handled = 0;
    for (auto& w : workers) handled += drain(*w);
    return handled;
  }

  // ---- dispatch -----------------------------------------------------------

  std::size_t room(const WorkerSlot& w) const {
    if (w.retiring || w.stopping || w.dead || w.kill != KillReason::none) return 0;
    std::size_t r = w.inflight.size() < inflight_limit ? inflight_limit - w.inflight.size() : 0;
    if (config.maxtasksperchild != 0) {
      std::size_t budget =
          w.assigned < config.maxtasksperchild ? config.maxtasksperchild - w.assigned : 0;
      r = std::min(r, budget);
    }
    return r;
  }

  bool put(WorkerSlot& w, const std::string& message) {
    return w.channels.tasks->put(std::as_bytes(std::span(message.data(), message.size())),
                                 PoolCore::Clock::now());
  }

  // Sends up to `n` pending tasks to `w`. False if its channel is full.
  bool send_batch(WorkerSlot& w, std::size_t n) {
    std::size_t count = 0;
    std::size_t bytes = 0;
    while (count < n && count < pending.size()) {
      bytes += pending[count].payload.size();
      ++count;
      if (bytes > kMaxBatchBytes) break;
    }
    for (std::size_t i = 0; i < count; ++i) {
      std::uint32_t f = pending[i].job->function;
      if (w.functions.count(f) != 0) continue;
      if (!put(w, function_messages[f - 1])) return false;
      w.functions.insert(f);
    }
    pool::TasksWriter out(static_cast<std::uint32_t>(count));
    for (std::size_t i = 0; i < count; ++i) {
      const TaskRef& t = pending[i];
      out.add({t.id, t.job->function, t.count}, t.payload);
    }
    if (!put(w, out.data())) return false;
    for (std::size_t i = 0; i < count; ++i) {
      w.inflight.push_back(std::move(pending.front()));
      pending.pop_front();
    }
    w.assigned += count;
    return true;
  }

  void dispatch() {
    while (!pending.empty()) {
      // The least loaded worker first, so a light load stays on one warm
      // worker; and no worker takes more than its share of what is pending
      // while others have room.
      WorkerSlot* best = nullptr;
      std::size_t best_room = 0;
      std::size_t with_room = 0;
      for (auto& w : workers) {
        std::size_t r = room(*w);
        if (r == 0) continue;
        ++with_room;
        if (best == nullptr || w->inflight.size() < best->inflight.size()) {
          best = w.get();
          best_room = r;
        }
      }
      if (best == nullptr) return;
      std::size_t share = (pending.size() + with_room - 1) / with_room;
      if (!send_batch(*best, std::min(best_room, share))) return;
    }
  }

  // ---- deaths, deadlines, limits -------------------------------------------

  void kill(WorkerSlot& w, KillReason reason, std::string detail) {
    if (w.kill == KillReason::none) {
      w.kill = reason;
      w.kill_detail = std::move(detail);
    }
    try {
      w.process->kill();
    } catch (...) {
      // Already reaped elsewhere: its death is being handled.
    }
  }

  std::exception_ptr lost_error(const WorkerSlot& w, const ExitStatus& status) const {
    switch (w.kill) {
      case KillReason::timeout:
        return std::make_exception_ptr(TaskTimeoutError(w.pid, *config.task_timeout));
      case KillReason::cancel:
        return cancelled("the task was cancelled while it ran; its worker was replaced");
      case KillReason::terminate:
        // Not CancelledError: that is for a task that never ran. A task the
        // pool stopped mid-run may have done part of its work (docs/pool.md).
        return std::make_exception_ptr(
            WorkerLost(w.pid, status, "was stopped by terminate() while running this task"));
      case KillReason::memory:
      case KillReason::protocol:
        return std::make_exception_ptr(WorkerLost(w.pid, status, w.kill_detail));
      case KillReason::none:
        break;
    }
    return std::make_exception_ptr(WorkerLost(w.pid, status, "died while running this task"));
  }

  void bury(std::size_t index) {
    WorkerSlot& w = *workers[index];
    drain(w);  // what it posted before it died is valid
    try {
      w.process->join();
    } catch (...) {
    }
    ExitStatus status = w.process->exit_status().value_or(ExitStatus::killed_by(SIGKILL));
    std::uint64_t started = w.control->started.load(std::memory_order_acquire);
    std::uint64_t lost = started > w.results_seen ? started - w.results_seen : 0;
    // Tasks it began without posting a result fail; the others go back to
    // the front of the queue, in order, to run elsewhere.
    std::size_t failing =
        static_cast<std::size_t>(std::min<std::uint64_t>(lost, w.inflight.size()));
    for (std::size_t i = 0; i < failing; ++i) end_task(w.inflight[i], lost_error(w, status));
    bool requeue = state != State::terminating && !broken;
    for (std::size_t i = w.inflight.size(); i > failing; --i) {
      TaskRef& t = w.inflight[i - 1];
      if (requeue) {
        pending.push_front(std::move(t));
      } else {
        end_task(t, broken ? broken : cancelled("the pool was terminated before the task ran"));
      }
    }
    workers.erase(workers.begin() + static_cast<std::ptrdiff_t>(index));
    notify();
  }

  void bury_dead() {
    for (std::size_t i = workers.size(); i > 0; --i) {
      if (workers[i - 1]->dead) bury(i - 1);
    }
  }

  void check_timeouts() {
    if (!config.task_timeout) return;
    std::int64_t now = pool::monotonic_ns();
    std::int64_t limit = config.task_timeout->count();
    for (auto& w : workers) {
      if (w->kill != KillReason::none) continue;
      std::uint64_t task = w->control->current_task.load(std::memory_order_acquire);
      if (task == 0) continue;
      std::int64_t since = w->control->current_since_ns.load(std::memory_order_relaxed);
      if (w->control->current_task.load(std::memory_order_acquire) != task) continue;
      if (now - since > limit) kill(*w, KillReason::timeout, "");
    }
  }

  bool kill_over_memory() const {
    return config.max_memory_per_child != 0 && config.kill_task_over_memory;
  }

  void check_memory() {
    if (!kill_over_memory()) return;
    for (auto& w : workers) {
      if (w->kill != KillReason::none || w->control->current_task.load() == 0) continue;
      std::uint64_t rss = resident_bytes(w->pid);
      if (rss > config.max_memory_per_child) {
        kill(*w, KillReason::memory,
             "was killed: resident memory " + std::to_string(rss >> 20) +
                 " MiB exceeded max_memory_per_child (" +
                 std::to_string(config.max_memory_per_child >> 20) + " MiB)");
      }
    }
  }

  static std::uint64_t resident_bytes(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/statm", static_cast<int>(pid));
    FILE* f = std::fopen(path, "re");
    if (f == nullptr) return 0;
    unsigned long size = 0, resident = 0;
    int n = std::fscanf(f, "%lu %lu", &size, &resident);
    std::fclose(f);
    return n == 2 ? resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)) : 0;
  }

  // Milliseconds until the manager must look again (-1: only on events).
  int next_timeout_ms() const {
    int ms = -1;
    bool busy = false;
    std::int64_t now = pool::monotonic_ns();
    bool watching = config.task_timeout || kill_over_memory();
    for (const auto& w : workers) {
      std::uint64_t task = w->control->current_task.load(std::memory_order_acquire);
      if (w->kill != KillReason::none) continue;
      if (task == 0) {
        // Dispatched but not started yet: nothing tells the manager when it
        // starts, so look again soon to arm its deadline.
        if (watching && !w->inflight.empty())
          ms = ms < 0 ? kStartPollMs : std::min(ms, kStartPollMs);
        continue;
      }
      busy = true;
      if (!config.task_timeout) continue;
      std::int64_t since = w->control->current_since_ns.load(std::memory_order_relaxed);
      std::int64_t left = since + config.task_timeout->count() - now;
      int left_ms = static_cast<int>(std::max<std::int64_t>(left / 1'000'000 + 1, 0));
      ms = ms < 0 ? left_ms : std::min(ms, left_ms);
    }
    if (busy && kill_over_memory()) {
      int poll_ms = static_cast<int>(kMemoryPoll.count());
      ms = ms < 0 ? poll_ms : std::min(ms, poll_ms);
    }
    return ms;
  }

  // ---- the manager thread --------------------------------------------------

  void wake_manager() {
    std::uint64_t one = 1;
    (void)!::write(wake_fd.get(), &one, sizeof one);
  }

  // Runs what the sinks posted (callbacks, progress hooks): one thread at a
  // time, in order, with the lock released while they run. `lock` is held on
  // entry and on return.
  void run_posted(std::unique_lock<std::mutex>& lock) {
    if (running_callbacks || posted.empty()) return;
    running_callbacks = true;
    callback_runner = std::this_thread::get_id();
    while (!posted.empty()) {
      std::vector<std::function<void()>> fns;
      fns.swap(posted);
      lock.unlock();
      for (auto& fn : fns) {
        try {
          fn();
        } catch (...) {
          // A callback's exception has nowhere to go; it must not stop the pool.
        }
      }
      lock.lock();
    }
    running_callbacks = false;
    notify();
  }

  // No callback is waiting to run, except on this very thread: a waiter
  // returns only once the callbacks of what it waited for have run.
  bool callbacks_settled() const {
    return posted.empty() && (!running_callbacks || callback_runner == std::this_thread::get_id());
  }

  void manager_loop() {
    std::unique_lock lock(mu);
    std::vector<pollfd> fds;
    std::vector<WorkerSlot*> polled;
    while (!stop_manager) {
      collect();
      bury_dead();
      check_timeouts();
      check_memory();
      refill_workers();
      dispatch();

      // Sleep until a worker dies or posts, someone submits, or a deadline.
      fds.assign(1, pollfd{wake_fd.get(), POLLIN, 0});
      polled.clear();
      for (auto& w : workers) {
        fds.push_back({w->process->sentinel(), POLLIN, 0});
        polled.push_back(w.get());
      }
      // While a waiting thread collects, results need not wake the manager.
      bool watch_results = spinning == 0;
      bool ready = false;
      if (watch_results) {
        for (WorkerSlot* w : polled) {
          w->channels.results->add_poller();
          fds.push_back({w->channels.results->eventfd(), POLLIN, 0});
          ready = w->channels.results->ready() || ready;
        }
      }
      int timeout = ready ? 0 : next_timeout_ms();
      manager_sleeping = true;
      run_posted(lock);
      lock.unlock();
      int n = ::poll(fds.data(), fds.size(), timeout);
      lock.lock();
      manager_sleeping = false;
      if (stop_manager) {
        if (watch_results) {
          for (WorkerSlot* w : polled) w->channels.results->remove_poller();
        }
        break;
      }
      if (watch_results) {
        for (WorkerSlot* w : polled) w->channels.results->remove_poller();
      }
      if (n > 0 && (fds[0].revents & POLLIN) != 0) {
        std::uint64_t count;
        (void)!::read(wake_fd.get(), &count, sizeof count);
      }
      for (std::size_t i = 0; n > 0 && i < polled.size(); ++i) {
        if (fds[i + 1].revents != 0) polled[i]->dead = true;
      }
    }
    run_posted(lock);
  }

  // ---- shutdown -----------------------------------------------------------

  // Waits (bounded by `deadline`) until every worker was buried.
  bool wait_workers_gone(std::unique_lock<std::mutex>& lock,
                         std::chrono::steady_clock::time_point deadline) {
    ++waiters;
    bool gone = cv.wait_until(lock, deadline, [this] { return workers.empty(); });
    --waiters;
    return gone;
  }

  void stop_manager_thread(std::unique_lock<std::mutex>& lock) {
    stop_manager = true;
    wake_manager();
    lock.unlock();
    if (manager.joinable()) manager.join();
    lock.lock();
  }
};

// ---- PoolCore -----------------------------------------------------------------

PoolCore::PoolCore(PoolConfig config) : impl_(std::make_unique<Impl>()) {
  Impl& p = *impl_;
  p.config = std::move(config);
  if (p.config.processes == 0) p.config.processes = cpus_available();
  if (p.config.name.empty()) p.config.name = "PoolWorker";
  p.method = p.config.start_method.value_or(get_start_method());
  if (p.method != StartMethod::fork && !initialized()) {
    throw UsageError("Pool: the " + std::string(to_string(p.method)) +
                     " start method needs multiproc::init(argc, argv) as the first statement of "
                     "main (see init.hpp)");
  }
  int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) throw SystemError("eventfd", errno);
  p.wake_fd = sys::UniqueFd(efd);
  if (p.method == StartMethod::fork && !forkserver_pid()) {
    // The first workers are forked now, while the process has one thread, and
    // so is the pool's zygote, which forks every replacement later. When the
    // program runs a forkserver, replacements come from it instead (see
    // docs/pool.md: it saves a fork and an exit per pool).
    p.zygote = std::make_unique<ZygoteClient>("Pool (fork)", false);
    p.zygote->set_start_hint(
        "create the Pool before starting threads, or use the forkserver or spawn start method");
  }
  std::unique_lock lock(p.mu);
  try {
    p.start_workers(p.config.processes, true);
    // After the workers: every fork copies the page tables of what exists,
    // and every write in this process after a fork costs a copy-on-write.
    if (p.zygote) p.zygote->start_async();  // its hello is read at the first replacement
    p.manager = std::thread([&p] { p.manager_loop(); });
  } catch (...) {
    for (auto& w : p.workers) {
      try {
        w->process->kill();
        w->process->join();
      } catch (...) {
      }
    }
    p.workers.clear();
    p.stop_manager_thread(lock);
    lock.unlock();
    if (p.zygote) p.zygote->stop();
    throw;
  }
}

PoolCore::~PoolCore() {
  terminate();
}

std::size_t PoolCore::processes() const noexcept {
  return impl_->config.processes;
}

std::uint32_t PoolCore::function_id(PoolRunner runner, const void* fn) {
  Impl& p = *impl_;
  std::lock_guard lock(p.mu);
  auto key = std::make_pair(runner, fn);
  auto it = p.function_ids.find(key);
  if (it != p.function_ids.end()) return it->second;
  auto id = static_cast<std::uint32_t>(p.function_messages.size() + 1);
  pool::FunctionMessage m{id, code_ref_of(runner), std::nullopt};
  if (fn != nullptr) m.callable = code_ref(fn);
  p.function_messages.push_back(pool::encode_function(m));
  p.function_ids.emplace(key, id);
  return id;
}

std::shared_ptr<PoolCore::Job> PoolCore::open_job(std::uint32_t function,
                                                  std::shared_ptr<ChunkSink> sink) {
  Impl& p = *impl_;
  std::lock_guard lock(p.mu);
  if (p.state != Impl::State::running) throw UsageError("Pool: the pool was closed");
  auto job = std::make_shared<Job>();
  job->sink = std::move(sink);
  job->function = function;
  return job;
}

void PoolCore::add_chunks(const std::shared_ptr<Job>& owner, std::vector<Chunk> chunks, bool) {
  Impl& p = *impl_;
  std::unique_lock lock(p.mu);
  if (p.state == Impl::State::terminating || p.state == Impl::State::joined) {
    throw UsageError("Pool: the pool was terminated or joined");
  }
  Job& job = *owner;
  for (Chunk& c : chunks) {
    TaskRef t;
    t.chunk = job.next_chunk++;
    t.id = p.next_task++;
    t.payload = std::move(c.payload);
    t.count = c.count;
    job.unfinished.fetch_add(1, std::memory_order_relaxed);
    t.job = owner;
    if (p.broken) {
      p.end_task(t, p.broken);
      continue;
    }
    p.pending.push_back(std::move(t));
  }
  p.dispatch();
  if (!p.pending.empty() && p.manager_sleeping) p.wake_manager();
  p.run_posted(lock);
}

std::size_t PoolCore::unfinished(const Job& job) noexcept {
  return job.unfinished.load(std::memory_order_relaxed);
}

bool PoolCore::wait(const std::function<bool()>& done_fn, const Deadline& deadline) {
  Impl& p = *impl_;
  std::unique_lock lock(p.mu);
  auto done = [&] { return done_fn() && p.callbacks_settled(); };
  bool ok = done();
  if (!ok) {
    // Help: collect and dispatch while spinning, as the worker spins too,
    // for as long as results keep coming (then nothing needs waking up).
    auto spin_end = Clock::now() + kHelpSpin;
    ++p.spinning;
    for (;;) {
      bool progress = p.collect() > 0;
      p.dispatch();
      p.run_posted(lock);
      if ((ok = done())) break;
      auto now = Clock::now();
      if (progress) spin_end = now + kHelpSpin;
      if (now >= spin_end || (deadline && now >= *deadline)) break;
      lock.unlock();
      for (int i = 0; i < 16; ++i) sys::cpu_relax();
      lock.lock();
    }
    if (--p.spinning == 0 && p.manager_sleeping) p.wake_manager();
    if (!ok && (!deadline || Clock::now() < *deadline)) {
      ++p.waiters;
      while (!(ok = done())) {
        if (!deadline) {
          p.cv.wait(lock);
        } else if (p.cv.wait_until(lock, *deadline) == std::cv_status::timeout) {
          ok = done();
          break;
        }
      }
      --p.waiters;
    }
  }
  p.run_posted(lock);
  return ok;
}

void PoolCore::post(std::function<void()> fn) {
  // Called by sinks, with the lock held.
  impl_->posted.push_back(std::move(fn));
}

bool PoolCore::cancel(Job& job, std::size_t chunk) {
  Impl& p = *impl_;
  std::unique_lock lock(p.mu);
  auto matches = [&](const TaskRef& t) { return t.job.get() == &job && t.chunk == chunk; };
  // Not dispatched yet: it never runs.
  auto it = std::find_if(p.pending.begin(), p.pending.end(), matches);
  if (it != p.pending.end()) {
    TaskRef t = std::move(*it);
    p.pending.erase(it);
    p.end_task(t, cancelled("the task was cancelled before it ran"));
    return true;
  }
  for (auto& w : p.workers) {
    for (const TaskRef& t : w->inflight) {
      if (!matches(t) || job.dropped.count(chunk) != 0) continue;
      job.sink->fail(chunk, cancelled("the task was cancelled"));
      job.unfinished.fetch_sub(1, std::memory_order_relaxed);
      job.dropped.insert(chunk);  // its late outcome is ignored
      if (w->control->current_task.load(std::memory_order_acquire) == t.id) {
        p.kill(*w, KillReason::cancel, "");
      } else {
        w->control->cancel(t.id);  // the worker skips it
      }
      p.notify();
      return true;
    }
  }
  return false;
}

void PoolCore::close() {
  Impl& p = *impl_;
  std::lock_guard lock(p.mu);
  if (p.state == Impl::State::running) p.state = Impl::State::closed;
}

void PoolCore::terminate() {
  if (!impl_ || impl_->owner != ::getpid()) return;
  Impl& p = *impl_;
  std::unique_lock lock(p.mu);
  if (p.state == Impl::State::joined) return;
  p.state = Impl::State::terminating;
  while (!p.pending.empty()) {
    p.end_task(p.pending.front(), cancelled("the pool was terminated before the task ran"));
    p.pending.pop_front();
  }
  for (auto& w : p.workers) {
    if (w->kill == KillReason::none) w->kill = KillReason::terminate;
    try {
      w->process->terminate();
    } catch (...) {
    }
  }
  if (p.zygote) p.zygote->close_channel();
  p.wake_manager();
  if (!p.wait_workers_gone(lock, Clock::now() + std::chrono::seconds(1))) {
    for (auto& w : p.workers) {
      try {
        w->process->kill();
      } catch (...) {
      }
    }
    p.wait_workers_gone(lock, Clock::now() + std::chrono::hours(1));
  }
  p.stop_manager_thread(lock);
  p.state = Impl::State::joined;
  lock.unlock();
  if (p.zygote) p.zygote->stop();
}

void PoolCore::join() {
  Impl& p = *impl_;
  {
    std::lock_guard lock(p.mu);
    if (p.state == Impl::State::running) {
      throw UsageError("Pool::join: call close() or terminate() first");
    }
    if (p.state == Impl::State::joined) return;
  }
  // Every task submitted ends (their jobs hold the count).
  wait(
      [&p] {
        if (!p.pending.empty()) return false;
        for (auto& w : p.workers) {
          if (!w->inflight.empty()) return false;
        }
        return true;
      },
      std::nullopt);
  std::unique_lock lock(p.mu);
  if (p.state == Impl::State::joined) return;
  for (auto& w : p.workers) {
    w->stopping = true;
    if (!p.put(*w, pool::encode_stop())) p.kill(*w, KillReason::terminate, "");
  }
  // No worker will start again: the zygote and the manager end while the
  // workers do (each wake-up costs tens of microseconds here; they overlap).
  if (p.zygote) p.zygote->close_channel();
  p.stop_manager = true;
  p.wake_manager();
  std::vector<Process*> processes;
  for (auto& w : p.workers) processes.push_back(w->process.get());
  lock.unlock();
  // The manager leaves the workers alone once stop_manager is set: this
  // thread reaps them itself.
  for (Process* process : processes) {
    bool ended = false;
    try {
      ended = process->join(std::chrono::seconds(30));
      if (!ended) {
        process->kill();
        process->join();
      }
    } catch (...) {
    }
  }
  if (p.manager.joinable()) p.manager.join();
  if (p.zygote) p.zygote->stop();
  lock.lock();
  for (auto& w : p.workers) w->dead = true;
  p.bury_dead();
  p.state = Impl::State::joined;
}

std::vector<pid_t> PoolCore::worker_pids() const {
  Impl& p = *impl_;
  std::lock_guard lock(p.mu);
  std::vector<pid_t> out;
  for (const auto& w : p.workers) out.push_back(w->pid);
  return out;
}

}  // namespace multiproc::detail
