// The worker's side of the pool: decode the worker target, run the
// initializer, then take task batches and post one result per task.
#include "pool/worker.hpp"

#include <unistd.h>

#include <chrono>
#include <exception>
#include <string>
#include <unordered_map>

#include "contain/leftovers.hpp"
#include "exception_codecs.hpp"
#include "multiproc/detail/code_ref.hpp"
#include "multiproc/detail/entry_point.hpp"
#include "multiproc/detail/pool_task.hpp"
#include "multiproc/detail/wire.hpp"
#include "multiproc/error.hpp"
#include "pool/control_block.hpp"
#include "pool/protocol.hpp"
#include "start/identity.hpp"
#include "start/run_target.hpp"
#include "sys/proc_fs.hpp"
#include "sys/spin.hpp"

namespace multiproc::detail::pool {
namespace {

constexpr std::uint64_t kChannelRing = std::uint64_t{1} << 20;

std::shared_ptr<QueueCore> import_channel(WireReader& in) {
  int memfd = dup_received(in.fd());
  int eventfd = -1;
  try {
    eventfd = dup_received(in.fd());
    return QueueCore::adopt(memfd, eventfd, kChannelTag);
  } catch (...) {
    ::close(memfd);
    if (eventfd >= 0) ::close(eventfd);
    throw;
  }
}

ProcessTarget* decode_worker(WireReader& in) {
  auto tasks = import_channel(in);
  auto results = import_channel(in);
  WorkerChannels c{std::move(tasks), std::move(results), SharedMemory::multiproc_import(in)};
  WorkerLimits limits;
  in.raw(&limits, sizeof limits);
  std::shared_ptr<ProcessTarget> init;
  std::uint32_t has_init = in.u32();
  if (has_init > 1) throw DecodeError("multiproc: corrupt pool worker setup");
  if (has_init == 1) {
    init.reset(resolve_entry<std::remove_pointer_t<TargetDecoder>>(read_code_ref(in))(in));
  }
  return new WorkerTarget(std::move(c), limits, std::move(init));
}

struct Function {
  PoolRunner runner = nullptr;
  const void* callable = nullptr;
};

class Worker {
 public:
  Worker(WorkerChannels& c, const WorkerLimits& limits)
      : c_(c), limits_(limits), control_(reinterpret_cast<ControlBlock*>(c.control.buf().data())) {}

  int serve() {
    for (;;) {
      wait_for_message();
      std::string bytes;
      c_.tasks->get(
          [](void* out, std::span<const std::byte> b) {
            static_cast<std::string*>(out)->assign(reinterpret_cast<const char*>(b.data()),
                                                   b.size());
          },
          &bytes, std::nullopt);
      WireReader in(std::as_bytes(std::span(bytes.data(), bytes.size())), {});
      switch (read_engine_kind(in)) {
        case Kind::function:
          define(read_function(in));
          break;
        case Kind::tasks:
          if (!run_batch(in)) return 0;
          break;
        default:  // stop
          return 0;
      }
    }
  }

 private:
  // Spins a little before sleeping in get(): back-to-back tasks then never
  // pay for a wake-up.
  void wait_for_message() {
    // Not before the first task: a worker starting up must not take the CPU
    // from the parent that is still starting the others.
    if (c_.tasks->qsize() > 0 || limits_.idle_spin_ns == 0 || tasks_done_ == 0) return;
    auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(limits_.idle_spin_ns);
    do {
      for (int i = 0; i < 64; ++i) {
        if (c_.tasks->qsize() > 0) return;
        sys::cpu_relax();
      }
    } while (std::chrono::steady_clock::now() < until);
  }

  void define(const FunctionMessage& m) {
    Function f;
    f.runner = resolve_entry<std::remove_pointer_t<PoolRunner>>(m.runner);
    if (m.callable) f.callable = resolve_code(*m.callable);
    functions_[m.id] = f;
  }

  // False when the worker must retire.
  bool run_batch(WireReader& in) {
    TasksReader tasks(in);
    // One clock read per task: a task starts when the previous one ended.
    std::int64_t start = monotonic_ns();
    for (std::uint32_t i = 0; i < tasks.size(); ++i) {
      std::span<const std::byte> payload;
      TaskHeader t = tasks.next(payload);
      start = run_task(t, payload, start);
      ++tasks_done_;
      if (limits_.maxtasks != 0 && tasks_done_ >= limits_.maxtasks) {
        post(encode_retire("maxtasksperchild reached"));
        return false;
      }
      if (over_memory()) return false;
    }
    tasks.finish();
    return true;
  }

  // Returns when it ended.
  std::int64_t run_task(const TaskHeader& t, std::span<const std::byte> payload,
                        std::int64_t start) {
    // Reset before the task counts as started: a death in between must not
    // name the previous task's item.
    control_->current_item.store(0, std::memory_order_relaxed);
    control_->started.store(control_->started.load(std::memory_order_relaxed) + 1,
                            std::memory_order_release);
    if (control_->is_cancelled(t.id)) {
      post(encode_result_skipped(t.id));
      return start;
    }
    control_->current_since_ns.store(start, std::memory_order_relaxed);
    control_->current_task.store(t.id, std::memory_order_release);
    WireWriter out;
    std::string message;
    std::int64_t end = start;
    try {
      auto f = functions_.find(t.function);
      if (f == functions_.end()) throw DecodeError("multiproc: task for an unknown function");
      WireReader in(payload, {});
      f->second.runner(f->second.callable, in, t.items, out, control_->current_item);
      if (in.remaining() != 0) throw DecodeError("multiproc: task items with trailing bytes");
      end = monotonic_ns();
      message = encode_result_ok(t.id, static_cast<std::uint64_t>(end - start),
                                 std::as_bytes(std::span(out.data().data(), out.data().size())));
    } catch (...) {
      end = monotonic_ns();
      CurrentException e = describe_current_exception();
      message =
          encode_result_error(t.id, static_cast<std::uint64_t>(end - start), e.type, e.message,
                              control_->current_item.load(std::memory_order_relaxed),
                              registered_fields_of_current_exception());
    }
    // Before the result: whoever gets it may rely on the leftovers being gone.
    if (limits_.kill_leftovers != 0) contain::kill_own_leftovers();
    control_->current_task.store(0, std::memory_order_release);
    post(message);
    return end;
  }

  bool over_memory() {
    if (limits_.max_memory == 0) return false;
    // /proc costs a few microseconds: look at most once a millisecond.
    std::int64_t now = monotonic_ns();
    if (now - last_memory_check_ < 1'000'000) return false;
    last_memory_check_ = now;
    std::uint64_t peak = sys::proc::peak_resident_bytes();
    if (peak <= limits_.max_memory) return false;
    post(encode_retire("max_memory_per_child exceeded: peak resident " +
                       std::to_string(peak >> 20) + " MiB"));
    return true;
  }

  void post(const std::string& message) {
    c_.results->put(std::as_bytes(std::span(message.data(), message.size())), std::nullopt);
  }

  WorkerChannels& c_;
  const WorkerLimits& limits_;
  ControlBlock* control_;
  std::unordered_map<std::uint32_t, Function> functions_;
  std::uint64_t tasks_done_ = 0;
  std::int64_t last_memory_check_ = 0;
};

}  // namespace

std::shared_ptr<QueueCore> make_channel() {
  return QueueCore::create({0, kChannelRing}, kChannelTag);
}

int WorkerTarget::run() {
  use_parent_start_method();  // a worker is the pool's, not a Process of the user's
  if (initializer_) {
    try {
      initializer_->run();
    } catch (...) {
      CurrentException e = describe_current_exception();
      std::string m = encode_init_failed(e.type, e.message);
      channels_.results->put(std::as_bytes(std::span(m.data(), m.size())), std::nullopt);
      return 1;
    }
  }
  return Worker(channels_, limits_).serve();
}

void WorkerTarget::descriptors(std::vector<int>& out) const {
  for (const auto& q : {channels_.tasks, channels_.results}) {
    out.push_back(q->memfd());
    out.push_back(q->eventfd());
  }
  channels_.control.multiproc_descriptors(out);
  if (initializer_) initializer_->descriptors(out);
}

void WorkerTarget::encode(WireWriter& out) const {
  write_code_ref(out, entry_ref<&decode_worker>());
  for (const auto& q : {channels_.tasks, channels_.results}) {
    out.fd(q->memfd());
    out.fd(q->eventfd());
  }
  channels_.control.multiproc_export(out);
  out.raw(&limits_, sizeof limits_);
  out.u32(initializer_ ? 1 : 0);
  if (initializer_) initializer_->encode(out);
}

}  // namespace multiproc::detail::pool
