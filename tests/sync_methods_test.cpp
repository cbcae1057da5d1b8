// Synchronisation objects and shared memory passed to children started by
// each method (fork, spawn, forkserver): they cross as descriptors and the
// children share the same object with the parent.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "helpers/start_methods.hpp"
#include "multiproc/context.hpp"

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

class SyncAcrossMethods : public ::testing::TestWithParam<mp::StartMethod> {
 protected:
  mp::Context ctx() const { return mp::get_context(GetParam()); }

  // Starts `n` children of `target` with `args...` and joins them; each must exit 0.
  template <class F, class... A>
  void run_children(int n, F target, const A&... args) {
    std::vector<mp::Process> ps;
    for (int i = 0; i < n; ++i) ps.push_back(ctx().Process(target, args...));
    for (auto& p : ps) p.start();
    for (auto& p : ps) {
      p.join();
      EXPECT_EQ(p.exitcode(), 0);
    }
  }
};

constexpr int kIncrements = 2000;

void add_under_lock(mp::Lock lock, mp::Value<long> counter) {
  for (int i = 0; i < kIncrements; ++i) {
    std::lock_guard guard(lock);
    counter.set(counter.value() + 1);
  }
}

void add_under_rlock(mp::RLock lock, mp::Value<long> counter) {
  for (int i = 0; i < kIncrements; ++i) {
    std::lock_guard outer(lock);
    std::lock_guard inner(lock);
    counter.set(counter.value() + 1);
  }
}

void add_with_own_lock(mp::Value<long> counter, mp::Array<int> cells) {
  for (int i = 0; i < kIncrements; ++i) {
    std::lock_guard guard(counter.get_lock());
    counter.set(counter.value() + 1);
  }
  std::lock_guard guard(cells.get_lock());
  for (std::size_t i = 0; i < cells.size(); ++i) cells[i] = cells[i] + 1;
}

void release_twice(mp::Semaphore s, mp::BoundedSemaphore b) {
  s.release();
  s.release();
  b.acquire();
}

void ping_pong(mp::Event ping, mp::Event pong) {
  ping.wait();
  pong.set();
}

void notify_when_told(mp::Condition cond, mp::Value<int> state) {
  std::unique_lock lock(cond);
  state.set(1);
  cond.notify_all();
}

void meet(mp::Barrier barrier) {
  barrier.wait();
}

void write_greeting(mp::SharedMemory shm) {
  std::memcpy(shm.buf().data(), "hello", 5);
}

void die_holding(mp::Lock lock, mp::Event held) {
  (void)lock.acquire();
  held.set();
  ::raise(SIGKILL);
}

}  // namespace

TEST_P(SyncAcrossMethods, LockSerialisesChildren) {
  auto lock = ctx().Lock();
  auto counter = ctx().Value<long>(0L, mp::no_lock);
  run_children(3, add_under_lock, lock, counter);
  EXPECT_EQ(counter.value(), 3 * kIncrements);
}

TEST_P(SyncAcrossMethods, RLockIsReentrantInChildren) {
  auto lock = ctx().RLock();
  auto counter = ctx().Value<long>(0L, mp::no_lock);
  run_children(2, add_under_rlock, lock, counter);
  EXPECT_EQ(counter.value(), 2 * kIncrements);
}

TEST_P(SyncAcrossMethods, ValueAndArrayKeepTheirLocks) {
  auto counter = ctx().Value<long>(0L);
  auto cells = ctx().Array<int>(std::size_t{8});
  run_children(2, add_with_own_lock, counter, cells);
  EXPECT_EQ(counter.value(), 2 * kIncrements);
  for (std::size_t i = 0; i < cells.size(); ++i) EXPECT_EQ(cells[i], 2);
}

TEST_P(SyncAcrossMethods, SemaphoresCountAcrossProcesses) {
  auto s = ctx().Semaphore(0);
  auto b = ctx().BoundedSemaphore(1);
  run_children(1, release_twice, s, b);
  EXPECT_TRUE(s.acquire(60s));
  EXPECT_TRUE(s.acquire(60s));
  EXPECT_FALSE(s.acquire(0ms));
  EXPECT_FALSE(b.acquire(0ms));  // the child took it
  b.release();
}

TEST_P(SyncAcrossMethods, EventsWakeTheOtherSide) {
  auto ping = ctx().Event();
  auto pong = ctx().Event();
  mp::Process p = ctx().Process(ping_pong, ping, pong);
  p.start();
  ping.set();
  EXPECT_TRUE(pong.wait(60s));
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_P(SyncAcrossMethods, ConditionNotifiesTheParent) {
  auto cond = ctx().Condition();
  auto state = ctx().Value<int>(0, mp::no_lock);
  std::unique_lock lock(cond);
  mp::Process p = ctx().Process(notify_when_told, cond, state);
  p.start();
  EXPECT_TRUE(cond.wait_for([&state] { return state.value() == 1; }, 60s));
  lock.unlock();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_P(SyncAcrossMethods, BarrierReleasesAllParties) {
  auto barrier = ctx().Barrier(3);
  std::vector<mp::Process> ps;
  for (int i = 0; i < 2; ++i) ps.push_back(ctx().Process(meet, barrier));
  for (auto& p : ps) p.start();
  barrier.wait();
  for (auto& p : ps) {
    p.join();
    EXPECT_EQ(p.exitcode(), 0);
  }
}

TEST_P(SyncAcrossMethods, SharedMemoryIsShared) {
  auto shm = ctx().SharedMemory(std::size_t{4096});
  run_children(1, write_greeting, shm);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(shm.buf().data()), 5), "hello");
}

TEST_P(SyncAcrossMethods, LockOfAKilledChildIsReportedAsOwnerDied) {
  auto lock = ctx().Lock();
  auto held = ctx().Event();
  mp::Process p = ctx().Process(die_holding, lock, held);
  p.start();
  ASSERT_TRUE(held.wait(60s));
  p.join();
  EXPECT_EQ(p.exitcode(), -SIGKILL);
  // The owner's identity (TID and start time) is right in every kind of
  // child, forkserver's clone included, so its death is seen.
  auto r = lock.acquire(60s);
  EXPECT_EQ(r, mp::AcquireResult::owner_died);
  lock.make_consistent();
  lock.release();
}

INSTANTIATE_TEST_SUITE_P(Methods, SyncAcrossMethods, multiproc::testing::kAllStartMethods,
                         multiproc::testing::start_method_name);
