// The queue part, in rounds. Each round: producers (Processes) put numbered
// items on q1 (some over 1 MiB, beyond any pipe buffer and the ring); relays
// (Processes) move them from q1 to q2; the parent takes them from q2. A
// chaos step SIGKILLs a producer in the middle of its puts, or a relay (a
// replacement starts). Producers record their last completed put, and relays
// the item in hand, in a named shared segment (which must vanish from
// /dev/shm once its last user is gone, killed ones included).
//
// Checks per round: no item is delivered twice or damaged; every item a
// producer completed is delivered (the one it was putting when killed may or
// may not be; nothing after it is); an item missing is explained by a relay
// killed while it held it; nothing blocks past its deadline.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sys/mman.h>

#include <fstream>

#include "multiproc/multiproc.hpp"
#include "queue/layout.hpp"
#include "soak/soak.hpp"

namespace soak {

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

using Item = std::string;
constexpr std::size_t kSlots = 512;
constexpr std::size_t kStopSlot = kSlots - 1;

std::int64_t key_of(std::uint32_t producer, std::uint32_t seq) {
  return static_cast<std::int64_t>(producer) << 32 | seq;
}

unsigned char byte_at(std::int64_t key, std::size_t i) {
  auto k = static_cast<std::uint64_t>(key);
  return static_cast<unsigned char>((k * 2654435761u + i * 40503u) >> 7);
}

// A header (producer, seq, size), then bytes derived from the key.
Item make_item(std::uint32_t producer, std::uint32_t seq, std::size_t size) {
  Item item(16 + size, '\0');
  std::uint64_t n = size;
  std::memcpy(item.data(), &producer, 4);
  std::memcpy(item.data() + 4, &seq, 4);
  std::memcpy(item.data() + 8, &n, 8);
  std::int64_t key = key_of(producer, seq);
  for (std::size_t i = 0; i < size; ++i) item[16 + i] = static_cast<char>(byte_at(key, i));
  return item;
}

// The item's key, or -1 when it is damaged.
std::int64_t check_item(const Item& item) {
  if (item.size() < 16) return -1;
  std::uint32_t producer = 0, seq = 0;
  std::uint64_t n = 0;
  std::memcpy(&producer, item.data(), 4);
  std::memcpy(&seq, item.data() + 4, 4);
  std::memcpy(&n, item.data() + 8, 8);
  if (n != item.size() - 16) return -1;
  std::int64_t key = key_of(producer, seq);
  for (std::size_t i = 0; i < n; ++i) {
    if (static_cast<unsigned char>(item[16 + i]) != byte_at(key, i)) return -1;
  }
  return key;
}

std::string read_line(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  return line;
}

// For a stuck round: where a process sleeps (kernel function, system call).
std::string where(pid_t pid) {
  std::string base = "/proc/" + std::to_string(pid);
  return "pid " + std::to_string(pid) + " wchan " + read_line(base + "/wchan") + ", syscall " +
         read_line(base + "/syscall");
}

std::string hex(int word) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "0x%x", static_cast<unsigned>(word));
  return buffer;
}

// For a stuck round: the queue's shared counters (src/queue/layout.hpp).
// A lock word is FUTEX_WAITERS (0x80000000) | FUTEX_OWNER_DIED (0x40000000)
// | the owner's TID.
std::string queue_state(const mp::Queue<Item>& q) {
  void* p = ::mmap(nullptr, mp::detail::queue::kHeaderSize, PROT_READ, MAP_SHARED, q.fd(), 0);
  if (p == MAP_FAILED) return "(cannot map the queue)";
  const auto& h = *static_cast<const mp::detail::queue::Header*>(p);
  std::string out =
      "maxsize " + std::to_string(h.maxsize) + ", capacity " + std::to_string(h.capacity) +
      ", put_count " + std::to_string(h.put_count.load()) + ", get_count " +
      std::to_string(h.get_count.load()) + ", tail " + std::to_string(h.tail.load()) + ", head " +
      std::to_string(h.head.load()) + ", producers waiting " +
      std::to_string(h.producers_waiting.load()) + ", consumers waiting " +
      std::to_string(h.consumers_waiting.load()) + ", put_lock word " +
      hex(h.put_lock.__data.__lock) + " owner " + std::to_string(h.put_lock.__data.__owner) +
      ", get_lock word " + hex(h.get_lock.__data.__lock) + " owner " +
      std::to_string(h.get_lock.__data.__owner);
  ::munmap(p, mp::detail::queue::kHeaderSize);
  return out;
}

std::atomic_ref<std::int64_t> slot(const mp::SharedMemory& shm, std::size_t i) {
  auto* base = reinterpret_cast<std::int64_t*>(shm.buf().data());
  return std::atomic_ref<std::int64_t>(base[i]);
}

// In a producer: `count` items; about one in ten is 1 to 3 MiB.
void producer_main(mp::Queue<Item> q, mp::SharedMemory shm, std::uint32_t producer,
                   std::uint32_t count, std::uint64_t seed) {
  Rng rng(seed);
  for (std::uint32_t seq = 1; seq <= count; ++seq) {
    std::size_t size = rng.chance(0.1) ? (std::size_t{1} << 20) + rng.below(std::size_t{2} << 20)
                                       : rng.below(4096);
    q.put(make_item(producer, seq, size));
    slot(shm, producer).store(seq);
  }
}

// In a relay: q1 to q2 until told to stop; `held` names the item in hand.
void relay_main(mp::Queue<Item> from, mp::Queue<Item> to, mp::SharedMemory shm,
                std::uint32_t held) {
  while (slot(shm, kStopSlot).load() == 0) {
    auto item = from.get(std::chrono::milliseconds(20));
    if (!item) continue;
    slot(shm, held).store(check_item(*item));
    to.put(*item);
    slot(shm, held).store(0);
  }
}

struct Producer {
  std::uint32_t index = 0;
  std::uint32_t count = 0;
  mp::StartMethod method = mp::StartMethod::spawn;
  mp::Process process;
  bool killed = false;
};

struct Relay {
  std::uint32_t slot = 0;
  mp::Process process;
  bool killed = false;
};

class QueueRound {
 public:
  QueueRound(Context& ctx, Rng& rng, int number)
      : ctx_(ctx),
        rng_(rng),
        number_(number),
        q1_(mp::QueueOptions{.maxsize = rng.chance(0.5) ? 0 : 4 + rng.below(60),
                             .capacity_bytes = std::size_t{1} << (16 + rng.below(8))}),
        q2_(mp::QueueOptions{}),
        shm_(mp::SharedMemory::create(shm_prefix() + "q" + std::to_string(number),
                                      kSlots * sizeof(std::int64_t))) {}

  void run() {
    std::uint32_t producers = 1 + static_cast<std::uint32_t>(rng_.below(3));
    for (std::uint32_t p = 1; p <= producers; ++p) start_producer(p);
    std::size_t relays = 1 + rng_.below(2);
    for (std::size_t r = 0; r < relays; ++r) start_relay();
    auto deadline = Clock::now() + 60s;
    auto next_chaos = Clock::now() + std::chrono::milliseconds(rng_.below(400));
    while (any_producer_alive()) {
      ctx_.doing("queue", "round " + std::to_string(number_) + ": producing, " +
                              std::to_string(delivered_.size()) + " items delivered");
      take(q2_, 20ms);
      if (Clock::now() >= next_chaos) {
        chaos();
        next_chaos = Clock::now() + std::chrono::milliseconds(50 + rng_.below(600));
      }
      if (Clock::now() >= deadline) {
        ctx_.check("queue rounds end in time", false, stuck_report());
        break;
      }
    }
    finish();
  }

 private:
  void start_producer(std::uint32_t index) {
    auto count = static_cast<std::uint32_t>(20 + rng_.below(300));
    mp::StartMethod method = ctx_.process_method(rng_);
    mp::ProcessOptions o{.name = "soak-producer", .daemon = true, .start_method = method};
    producers_.push_back(
        Producer{index, count, method,
                 mp::Process(std::move(o), producer_main, q1_, shm_, index, count, rng_.next())});
    producers_.back().process.start();
    ctx_.count("queue.producers started");
    ctx_.count("queue.items to put", count);
  }

  void start_relay() {
    auto held = next_relay_slot_++;
    mp::ProcessOptions o{
        .name = "soak-relay", .daemon = true, .start_method = ctx_.process_method(rng_)};
    relays_.push_back(Relay{held, mp::Process(std::move(o), relay_main, q1_, q2_, shm_, held)});
    relays_.back().process.start();
    ctx_.count("queue.relays started");
  }

  bool any_producer_alive() {
    for (auto& p : producers_) {
      if (p.process.is_alive()) return true;
    }
    return false;
  }

  void chaos() {
    bool producer_killed = false;
    for (auto& p : producers_) producer_killed = producer_killed || p.killed;
    bool kill_producer = !producer_killed && rng_.chance(0.3);
    bool kill_relay = !kill_producer && relays_killed_ < 3 && rng_.chance(0.3);
    if (kill_producer && ctx_.options().kill_producers) {
      auto& p = producers_[rng_.below(producers_.size())];
      if (p.process.is_alive()) {
        p.process.kill();
        p.killed = true;
        ctx_.count("queue.producers SIGKILLed mid-put");
      }
    } else if (kill_relay && ctx_.options().kill_relays) {
      auto& r = relays_[rng_.below(relays_.size())];
      if (r.process.is_alive()) {
        r.process.kill();
        r.killed = true;
        ++relays_killed_;
        ctx_.count("queue.relays SIGKILLed");
        start_relay();
      }
    }
  }

  // Takes what is there (waiting at most `wait` for the first), checks it.
  void take(mp::Queue<Item>& q, std::chrono::milliseconds wait) {
    auto item = q.get(wait);
    while (item) {
      std::int64_t key = check_item(*item);
      ctx_.check("queue: no item delivered damaged or partial", key >= 0,
                 "round " + std::to_string(number_) + ": an item of " +
                     std::to_string(item->size()) + " bytes is damaged");
      if (key >= 0) {
        bool fresh = delivered_.insert(key).second;
        ctx_.check("queue: no item delivered twice", fresh,
                   "round " + std::to_string(number_) + ": item " + describe(key) + " twice");
        if (item->size() > (std::size_t{1} << 20)) ctx_.count("queue.items over 1 MiB delivered");
        ctx_.count("queue.items delivered");
      }
      item = q.try_get();
    }
  }

  std::string stuck_report() {
    std::string out = "round " + std::to_string(number_) + ": producers still running after 60 s;";
    for (auto& p : producers_) {
      out += " producer " + std::to_string(p.index) + " (pid " +
             std::to_string(p.process.pid().value_or(0)) + ", " +
             std::string(mp::to_string(p.method)) + (p.killed ? ", killed" : "") + ") put " +
             std::to_string(slot(shm_, p.index).load()) + " of " + std::to_string(p.count);
      if (p.process.is_alive()) out += ", " + where(*p.process.pid());
      out += ";";
    }
    for (auto& r : relays_) {
      if (r.process.is_alive()) out += " relay " + where(*r.process.pid()) + ";";
    }
    return out + " q1: " + queue_state(q1_) + "; q2: " + queue_state(q2_);
  }

  static std::string describe(std::int64_t key) {
    return std::to_string(key >> 32) + ":" + std::to_string(key & 0xffffffff);
  }

  void finish() {
    ctx_.doing("queue", "round " + std::to_string(number_) + ": stopping the relays");
    slot(shm_, kStopSlot).store(1);
    auto deadline = Clock::now() + 20s;
    for (auto& r : relays_) {
      while (!r.killed && !r.process.join(20ms)) {
        take(q2_, 0ms);  // a relay may wait for room in nothing: q2 is unbounded
        if (Clock::now() >= deadline) break;
      }
      ctx_.check("queue: relays stop when told", r.killed || r.process.exitcode() == 0,
                 "round " + std::to_string(number_) + ": a relay did not stop within 20 s");
      r.process.stop(1s);
    }
    for (auto& p : producers_) {
      if (!p.process.join(10s)) {
        ctx_.check("queue: producers not killed complete", false,
                   "round " + std::to_string(number_) + ": producer " + std::to_string(p.index) +
                       " still running; killed");
        p.process.kill();
        p.process.join();
        p.killed = true;
        continue;
      }
      ctx_.check("queue: producers not killed complete", p.killed || p.process.exitcode() == 0,
                 "round " + std::to_string(number_) + ": producer " + std::to_string(p.index) +
                     " ended with " + std::to_string(p.process.exitcode().value_or(-999)));
    }
    take(q2_, 0ms);
    take(q1_, 0ms);  // what no relay moved, the parent takes itself
    verify();
    ctx_.count("queue.rounds");
  }

  void verify() {
    std::set<std::int64_t> held_by_killed;
    long unexplained_allowed = 0;
    for (auto& r : relays_) {
      if (!r.killed) continue;
      std::int64_t held = slot(shm_, r.slot).load();
      if (held > 0)
        held_by_killed.insert(held);
      else
        ++unexplained_allowed;  // killed between get() and its note
    }
    long missing = 0, unexplained = 0, maybe = 0;
    std::string detail;
    for (auto& p : producers_) {
      auto last = static_cast<std::uint32_t>(slot(shm_, p.index).load());
      std::uint32_t must = p.killed ? last : p.count;
      for (std::uint32_t seq = 1; seq <= p.count; ++seq) {
        std::int64_t key = key_of(p.index, seq);
        bool got = delivered_.contains(key);
        if (seq <= must && !got) {
          ++missing;
          if (held_by_killed.contains(key)) continue;
          ++unexplained;
          if (detail.size() < 200) detail += " " + describe(key);
        }
        if (seq == must + 1 && p.killed && got) ++maybe;
        ctx_.check("queue: nothing after a killed producer's last put is delivered",
                   !(p.killed && seq > must + 1 && got),
                   "round " + std::to_string(number_) + ": item " + describe(key) +
                       " delivered but its producer was killed after " + std::to_string(last));
      }
    }
    ctx_.count("queue.items lost with a relay killed holding them", missing - unexplained);
    ctx_.count("queue.items a killed producer was putting, delivered whole", maybe);
    ctx_.check("queue: every completed put is delivered exactly once",
               unexplained <= unexplained_allowed,
               "round " + std::to_string(number_) + ": " + std::to_string(unexplained) +
                   " items missing:" + detail);
  }

  Context& ctx_;
  Rng& rng_;
  int number_;
  mp::Queue<Item> q1_;
  mp::Queue<Item> q2_;
  mp::SharedMemory shm_;
  std::vector<Producer> producers_;
  std::vector<Relay> relays_;
  std::uint32_t next_relay_slot_ = 100;
  int relays_killed_ = 0;
  std::set<std::int64_t> delivered_;
};

}  // namespace

void run_queue_part(Context& ctx) {
  Rng rng = ctx.rng(3);
  int number = 0;
  while (!ctx.over()) {
    QueueRound(ctx, rng, number++).run();
  }
  // The named segments go once their last user is gone (the tracker).
  ctx.doing("queue", "waiting for the named segments to go");
  auto deadline = Clock::now() + 5s;
  while (!shm_entries(shm_prefix()).empty() && Clock::now() < deadline)
    std::this_thread::sleep_for(20ms);  // polling the tracker's work, bounded
  auto left = shm_entries(shm_prefix());
  ctx.check("nothing left in /dev/shm", left.empty(),
            std::to_string(left.size()) + " named segments left, e.g. " +
                (left.empty() ? std::string() : left.front()));
  ctx.part_done("queue");
}

}  // namespace soak
