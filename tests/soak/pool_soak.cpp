// The pool part: a stream of random tasks (apply_async with many in flight,
// and map_outcomes / map / imap_unordered batches) against a Pool whose
// workers crash, hang, exit, throw and are SIGKILLed from outside by a chaos
// thread. Every submitted id must end exactly once, with the outcome its kind
// asks for (or WorkerLost by SIGKILL, when the chaos thread killed the worker
// that held it). The pool is replaced every epoch (close + join), with a
// random start method and options.
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "multiproc/multiproc.hpp"
#include "soak/pool_tasks.hpp"
#include "soak/soak.hpp"

namespace soak {

namespace mp = multiproc;
using namespace std::chrono_literals;

struct PoolEpoch {
  int number = 0;
  mp::StartMethod method = mp::StartMethod::fork;
  mp::Queue<StartRecord> started;
  std::unique_ptr<mp::Pool> pool;
};

// A sanitizer's runtime makes touching fresh memory several times slower: a
// task that allocates 48 MiB ran past a 1 s timeout under TSan on a loaded
// 2-core machine. The timeouts stretch there so that only hanging tasks hit
// them.
#ifdef MULTIPROC_SANITIZED
constexpr int kSlowdown = 4;
#else
constexpr int kSlowdown = 1;
#endif

std::shared_ptr<PoolEpoch> make_pool_epoch(Context& ctx, Rng& rng, int epoch) {
  auto e = std::make_shared<PoolEpoch>();
  e->number = epoch;
  e->method = ctx.pool_method(rng, epoch);
  mp::PoolOptions o{
      .processes = 2 + rng.below(3),
      .initializer = mp::Initializer(worker_init, e->started),
      .maxtasksperchild = rng.chance(0.5) ? 0 : 1 + rng.below(40),
      .start_method = e->method,
      .task_timeout = std::chrono::milliseconds((1000 + rng.below(1000)) * kSlowdown),
      .max_memory_per_child = rng.chance(0.5) ? 0 : std::size_t{40} << 20,
      .kill_task_over_memory = false,
      .name = "SoakWorker",
  };
  ctx.count("pool.epochs started with " + std::string(mp::to_string(e->method)));
  e->pool = std::make_unique<mp::Pool>(std::move(o));
  return e;
}

namespace {

// One task not yet ended.
struct Pending {
  Kind kind = Kind::ok;
  pid_t started_on = 0;
  int starts = 0;
  std::optional<mp::AsyncResult<std::int64_t>> result{};  // apply_async only
};

// An outcome handed over by a callback (on a library thread).
struct Arrival {
  std::int64_t id = 0;
  std::int64_t value = 0;
  std::exception_ptr error{};
};

class PoolSoak {
 public:
  PoolSoak(Context& ctx, std::shared_ptr<PoolEpoch> first)
      : ctx_(ctx), rng_(ctx.rng(1)), chaos_rng_(ctx.rng(2)), epoch_(std::move(first)) {}

  void run() {
    std::jthread chaos([this](std::stop_token stop) { chaos_loop(stop); });
    auto epoch_end = next_epoch_end();
    auto next_batch = Clock::now() + 1s;
    while (!ctx_.over()) {
      if (Clock::now() >= epoch_end && ctx_.options().start_method != "fork") {
        finish_epoch();
        ctx_.doing("pool", "starting pool epoch " + std::to_string(epoch_->number + 1));
        auto next = make_pool_epoch(ctx_, rng_, epoch_->number + 1);
        set_epoch(std::move(next));
        epoch_end = next_epoch_end();
      }
      ctx_.doing("pool", "epoch " + std::to_string(epoch_->number) + ": " +
                             std::to_string(in_flight_) + " tasks in flight, next id " +
                             std::to_string(next_id_));
      process_arrivals();
      if (Clock::now() >= next_batch) {
        run_batch();
        next_batch = Clock::now() + std::chrono::milliseconds(1000 + rng_.below(3000));
      } else if (in_flight_ < kWindow) {
        submit_one();
      } else {
        std::unique_lock lock(arrivals_mutex_);
        arrived_.wait_for(lock, 20ms, [&] { return !arrivals_.empty(); });
      }
    }
    chaos.request_stop();
    chaos.join();
    finish_epoch();
    set_epoch(nullptr);
    final_checks();
    ctx_.part_done("pool");
  }

 private:
  static constexpr std::size_t kWindow = 48;

  Clock::time_point next_epoch_end() {
    double cap = std::max(1.0, ctx_.options().seconds / 3);
    double s = std::min(cap, 15.0 + static_cast<double>(rng_.below(45)));
    return Clock::now() +
           std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }

  void set_epoch(std::shared_ptr<PoolEpoch> e) {
    std::lock_guard guard(epoch_mutex_);
    epoch_ = std::move(e);
  }
  std::shared_ptr<PoolEpoch> epoch() {
    std::lock_guard guard(epoch_mutex_);
    return epoch_;
  }

  Kind pick_kind(bool blocking_allowed) {
    auto n = [&](Kind k) { return kinds_in_flight_[static_cast<std::size_t>(k)]; };
    std::uint64_t roll = rng_.below(1000);
    if (blocking_allowed && n(Kind::hang) == 0 && roll < 8) return Kind::hang;
    if (roll < 40 && n(Kind::segv) + n(Kind::abort) + n(Kind::exit3) < 2) {
      static constexpr std::array crashes{Kind::segv, Kind::abort, Kind::exit3};
      return crashes[rng_.below(crashes.size())];
    }
    if (roll < 90) return Kind::throws;
    if (roll < 98 && n(Kind::alloc) == 0) return Kind::alloc;
    if (roll < 350) return Kind::slow;
    return Kind::ok;
  }

  std::int64_t open_task(Kind kind) {
    std::int64_t id = next_id_++;
    ended_.push_back(false);
    pending_[id].kind = kind;
    ctx_.count(std::string("pool.submitted.") + kind_name(kind));
    return id;
  }

  void submit_one() {
    Kind kind = pick_kind(true);
    std::int64_t id = open_task(kind);
    mp::Callbacks<std::int64_t> cb{
        .callback =
            [this, id](const std::int64_t& v) {
              arrive({id, v, nullptr});
            },
        .error_callback =
            [this, id](std::exception_ptr e) {
              arrive({id, 0, std::move(e)});
            },
    };
    pending_[id].result =
        epoch_->pool->apply_async(std::move(cb), soak_task, encode_task(id, kind));
    ++kinds_in_flight_[static_cast<std::size_t>(kind)];
    ++in_flight_;
    ctx_.count("pool.via.apply_async");
  }

  void arrive(Arrival a) {
    {
      std::lock_guard guard(arrivals_mutex_);
      arrivals_.push_back(std::move(a));
    }
    arrived_.notify_one();
  }

  // Arrivals are taken before the start records are read: a task's start
  // record was put before its outcome could exist, so it is there by then.
  void process_arrivals() {
    std::vector<Arrival> taken;
    {
      std::lock_guard guard(arrivals_mutex_);
      taken.swap(arrivals_);
    }
    drain_started();
    for (auto& a : taken) {
      auto it = pending_.find(a.id);
      if (it != pending_.end() && it->second.result) {
        --in_flight_;
        --kinds_in_flight_[static_cast<std::size_t>(it->second.kind)];
        cross_check(a, *it->second.result);
      }
      evaluate(a.id, classify(a.value, a.error));
    }
  }

  // The AsyncResult agrees with what the callback said.
  void cross_check(const Arrival& a, const mp::AsyncResult<std::int64_t>& r) {
    bool ready = r.ready();
    ctx_.check("an AsyncResult is ready when its callback ran", ready,
               "task " + std::to_string(a.id) + " not ready");
    if (!ready) return;
    std::int64_t v = 0;
    std::exception_ptr e;
    try {
      v = r.get();
    } catch (...) {
      e = std::current_exception();
    }
    Seen from_get = classify(v, e), from_callback = classify(a.value, a.error);
    bool same = from_get.what == from_callback.what && from_get.value == from_callback.value &&
                from_get.text == from_callback.text;
    ctx_.check("AsyncResult::get agrees with the callback", same,
               "task " + std::to_string(a.id) + ": get says " + outcome_label(from_get) +
                   ", the callback " + outcome_label(from_callback));
  }

  void drain_started() {
    if (!epoch_) return;
    while (auto rec = epoch_->started.try_get()) {
      std::int64_t id = (*rec)[0];
      auto pid = static_cast<pid_t>((*rec)[1]);
      auto it = pending_.find(id);
      if (it == pending_.end()) {
        bool tolerated = late_start_ok_.contains(id);
        ctx_.check("no task starts after it ended", tolerated,
                   "task " + std::to_string(id) + " started on worker " + std::to_string(pid) +
                       " after its outcome");
        continue;
      }
      Pending& p = it->second;
      ++p.starts;
      p.started_on = pid;
      ctx_.check("no task starts twice", p.starts == 1,
                 "task " + std::to_string(id) + " started " + std::to_string(p.starts) + " times");
    }
  }

  bool killed_from_outside(pid_t pid) {
    std::lock_guard guard(killed_mutex_);
    return killed_.contains(pid);
  }

  // `shared`: the error of a whole map or imap, which fails every task of
  // the job with the first error, whichever worker ran each.
  void evaluate(std::int64_t id, const Seen& seen, bool shared = false) {
    bool known = id >= 0 && id < next_id_;
    bool first = known && !ended_[static_cast<std::size_t>(id)];
    ctx_.check("every task ends exactly once", first,
               "task " + std::to_string(id) + (known ? " ended twice" : " is unknown") +
                   " (second outcome: " + outcome_label(seen) + ")");
    if (!first) return;
    ended_[static_cast<std::size_t>(id)] = true;
    auto it = pending_.find(id);
    const Kind kind = it->second.kind;
    const pid_t started_on = it->second.started_on;
    pending_.erase(it);
    ctx_.count("pool.outcome." + outcome_label(seen));

    bool matches = outcome_matches(kind, id, seen);
    bool chaos = seen.what == Seen::What::lost &&
                 seen.status == mp::ExitStatus::killed_by(SIGKILL) && killed_from_outside(seen.pid);
    if (!matches && chaos) ctx_.count("pool.tasks lost with a worker SIGKILLed from outside");
    ctx_.check(
        "every task ends with the outcome its kind asks for", matches || chaos,
        "task " + std::to_string(id) + " (" + kind_name(kind) + ") ended with " +
            outcome_label(seen) + ": " + seen.text +
            (started_on != 0 ? " [its start record came from " + std::to_string(started_on) + "]"
                             : " [no start record: it never got past its put]"));
    if ((seen.what == Seen::What::lost || seen.what == Seen::What::timeout) && started_on != 0 &&
        !shared) {
      ctx_.check("WorkerLost and TaskTimeoutError name the worker that ran the task",
                 seen.pid == started_on,
                 "task " + std::to_string(id) + " (" + kind_name(kind) + ") started on " +
                     std::to_string(started_on) + ", the error names " + std::to_string(seen.pid) +
                     ": " + seen.text + " [pool epoch " + std::to_string(epoch_->number) + ", " +
                     std::string(mp::to_string(epoch_->method)) + "; killed from outside: " +
                     (killed_from_outside(started_on) ? "the first" : "not the first") + ", " +
                     (killed_from_outside(seen.pid) ? "the second" : "not the second") + "]");
    }
  }

  std::vector<std::int64_t> batch_ids(std::size_t n, bool mixed, std::vector<std::int64_t>& codes) {
    std::vector<std::int64_t> ids;
    for (std::size_t i = 0; i < n; ++i) {
      Kind kind = Kind::ok;
      if (mixed) {
        kind = pick_kind(false);
      } else if (rng_.chance(0.3)) {
        kind = Kind::slow;
      }
      std::int64_t id = open_task(kind);
      ids.push_back(id);
      codes.push_back(encode_task(id, kind));
    }
    return ids;
  }

  void run_batch() {
    auto pool = epoch_->pool.get();
    std::vector<std::int64_t> codes;
    std::size_t n = 8 + rng_.below(40);
    switch (rng_.below(3)) {
      case 0: {
        ctx_.doing("pool", "map_outcomes of " + std::to_string(n));
        auto ids = batch_ids(n, true, codes);
        auto outcomes = pool->map_outcomes(soak_task, codes);
        drain_started();
        for (std::size_t i = 0; i < ids.size(); ++i) {
          const auto& o = outcomes.at(i);
          evaluate(ids[i], o.ok() ? classify(o.value(), nullptr) : classify(0, o.error()));
        }
        ctx_.count("pool.via.map_outcomes", static_cast<long>(n));
        break;
      }
      case 1: {
        ctx_.doing("pool", "map of " + std::to_string(n));
        auto ids = batch_ids(n, false, codes);
        mp::MapOptions mo{.chunksize = 1 + rng_.below(4)};
        try {
          auto values = pool->map(soak_task, codes, std::move(mo));
          drain_started();
          for (std::size_t i = 0; i < ids.size(); ++i)
            evaluate(ids[i], classify(values.at(i), nullptr));
        } catch (...) {
          // map fails as a whole with its first error; the other chunks go on.
          auto e = std::current_exception();
          drain_started();
          for (auto id : ids) {
            late_start_ok_.insert(id);
            evaluate(id, classify(0, e), true);
          }
        }
        ctx_.count("pool.via.map", static_cast<long>(n));
        break;
      }
      default:
        imap_batch(pool, n);
        break;
    }
    ctx_.count("pool.batches");
  }

  void imap_batch(mp::Pool* pool, std::size_t n) {
    ctx_.doing("pool", "imap_unordered of " + std::to_string(n));
    std::vector<std::int64_t> codes;
    auto ids = batch_ids(n, false, codes);
    std::unordered_map<std::int64_t, std::int64_t> id_of_value;
    for (auto id : ids) id_of_value[expected_value(id)] = id;
    try {
      for (std::int64_t v : pool->imap_unordered(soak_task, codes)) {
        drain_started();
        auto it = id_of_value.find(v);
        ctx_.check("imap_unordered yields only values of its tasks", it != id_of_value.end(),
                   "value " + std::to_string(v));
        if (it == id_of_value.end()) continue;
        evaluate(it->second, classify(v, nullptr));
        id_of_value.erase(it);
      }
    } catch (...) {
      // imap ends at its first error; the tasks not yet seen share it.
      auto e = std::current_exception();
      drain_started();
      for (auto& [v, id] : id_of_value) {
        late_start_ok_.insert(id);
        evaluate(id, classify(0, e), true);
      }
      id_of_value.clear();
    }
    ctx_.check("imap_unordered yields every task", id_of_value.empty(),
               std::to_string(id_of_value.size()) + " tasks never came");
    for (auto& [v, id] : id_of_value) evaluate(id, classify(0, nullptr));
    ctx_.count("pool.via.imap_unordered", static_cast<long>(n));
  }

  // close() + join(): every task of the epoch ends; then every callback runs.
  void finish_epoch() {
    if (!epoch_) return;
    ctx_.doing("pool", "closing and joining pool epoch " + std::to_string(epoch_->number));
    epoch_->pool->close();
    epoch_->pool->join();
    auto deadline = Clock::now() + 30s;
    while (in_flight_ > 0 && Clock::now() < deadline) {
      {
        std::unique_lock lock(arrivals_mutex_);
        arrived_.wait_for(lock, 20ms, [&] { return !arrivals_.empty(); });
      }
      process_arrivals();
    }
    ctx_.check("every task of a joined pool has ended (callbacks included)", in_flight_ == 0,
               std::to_string(in_flight_) +
                   " apply_async tasks never ended after join() in epoch " +
                   std::to_string(epoch_->number));
    ctx_.count("pool.epochs");
  }

  void final_checks() {
    std::string some;
    for (auto& [id, p] : pending_) {
      if (some.size() < 200) some += " " + std::to_string(id) + "(" + kind_name(p.kind) + ")";
    }
    ctx_.check("nothing lost: every submitted task ended", pending_.empty(),
               std::to_string(pending_.size()) + " tasks without an outcome:" + some);
    ctx_.count("pool.tasks submitted", next_id_);
  }

  // ---- chaos: SIGKILL a random live worker from outside -----------------

  void chaos_loop(const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      auto pause = std::chrono::milliseconds(100 + chaos_rng_.below(900));
      std::mutex m;
      std::unique_lock lock(m);
      std::condition_variable_any().wait_for(lock, stop, pause, [] { return false; });
      if (stop.stop_requested()) return;
      auto e = epoch();
      if (!e) continue;
      auto pids = e->pool->worker_pids();
      if (pids.empty()) continue;
      if (kill_worker(*e->pool, pids[chaos_rng_.below(pids.size())])) {
        ctx_.count("pool.workers SIGKILLed from outside");
      }
    }
  }

  // Through a pidfd, and only if the PID is still one of the pool's workers
  // once the pidfd holds it: never a reused PID.
  bool kill_worker(mp::Pool& pool, pid_t pid) {
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) return false;
    auto now = pool.worker_pids();
    bool still = std::find(now.begin(), now.end(), pid) != now.end();
    if (still) {
      {
        std::lock_guard guard(killed_mutex_);
        killed_.insert(pid);
      }
      still = ::syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0) == 0;
    }
    ::close(fd);
    return still;
  }

  Context& ctx_;
  Rng rng_;
  Rng chaos_rng_;
  std::mutex epoch_mutex_;
  std::shared_ptr<PoolEpoch> epoch_;

  std::int64_t next_id_ = 0;
  std::vector<bool> ended_;
  std::unordered_map<std::int64_t, Pending> pending_;
  std::unordered_set<std::int64_t> late_start_ok_;
  std::size_t in_flight_ = 0;
  std::array<std::size_t, kKinds> kinds_in_flight_{};

  std::mutex arrivals_mutex_;
  std::condition_variable arrived_;
  std::vector<Arrival> arrivals_;

  std::mutex killed_mutex_;
  std::set<pid_t> killed_;
};

}  // namespace

void run_pool_part(Context& ctx, std::shared_ptr<PoolEpoch> first) {
  PoolSoak(ctx, std::move(first)).run();
}

}  // namespace soak
