// Every blocking call gives up with Interrupted when its stop token is
// stopped (a signal bridge's, or any std::stop_source): before it waits, or
// while it waits. A helper thread requests the stop; whichever comes first,
// the call must throw, so no timing is assumed.
#include <gtest/gtest.h>

#include <chrono>
#include <stop_token>
#include <thread>
#include <vector>

#include "multiproc/multiproc.hpp"

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

// Requests a stop from another thread shortly after the call began waiting.
class StopSoon {
 public:
  StopSoon()
      : thread_([this] {
          std::this_thread::sleep_for(30ms);  // only lets the call reach its wait
          source_.request_stop();
        }) {}
  ~StopSoon() { thread_.join(); }
  std::stop_token token() const { return source_.get_token(); }

 private:
  std::stop_source source_;
  std::thread thread_;
};

void wait_forever(mp::Event e) {
  e.wait();
}

int wait_for_gate(int x) {
  static mp::Event never;  // a task that never ends, in the worker
  never.wait();
  return x;
}

}  // namespace

TEST(StopToken, AlreadyStoppedThrowsAtOnce) {
  std::stop_source s;
  s.request_stop();
  mp::Queue<int> q;
  q.put(1);  // even with an item there: the stop comes first
  EXPECT_THROW(q.get(s.get_token()), mp::Interrupted);
  EXPECT_EQ(q.get(), 1);
}

TEST(StopToken, ProcessJoin) {
  mp::Event never;
  mp::Process p(wait_forever, never);
  p.start();
  {
    StopSoon stop;
    EXPECT_THROW(p.join(stop.token()), mp::Interrupted);
  }
  EXPECT_TRUE(p.is_alive());
  p.kill();
  p.join();
}

TEST(StopToken, QueueGetPutAndJoin) {
  mp::Queue<int> q({.maxsize = 1});
  {
    StopSoon stop;
    EXPECT_THROW(q.get(stop.token()), mp::Interrupted);
  }
  q.put(1);
  {
    StopSoon stop;
    EXPECT_THROW(q.put(2, stop.token()), mp::Interrupted);  // full
  }
  EXPECT_EQ(q.get(), 1);
  mp::JoinableQueue<int> jq;
  jq.put(1);
  StopSoon stop;
  EXPECT_THROW(jq.join(stop.token()), mp::Interrupted);
  (void)jq.get();
  jq.task_done();
}

TEST(StopToken, ConnectionRecvAndWait) {
  auto [a, b] = mp::Pipe();
  {
    StopSoon stop;
    EXPECT_THROW(a.recv<int>(stop.token()), mp::Interrupted);
  }
  {
    StopSoon stop;
    EXPECT_THROW(mp::wait({mp::WaitObject(a)}, stop.token()), mp::Interrupted);
  }
  b.send(5);  // nothing was lost: the next recv gets it
  std::stop_source never;
  EXPECT_EQ(a.recv<int>(never.get_token()), 5);
}

TEST(StopToken, SynchronisationObjects) {
  mp::Event e;
  {
    StopSoon stop;
    EXPECT_THROW(e.wait(stop.token()), mp::Interrupted);
  }
  mp::Semaphore s(0);
  {
    StopSoon stop;
    EXPECT_THROW(s.acquire(stop.token()), mp::Interrupted);
  }
  mp::Lock lock;
  mp::Event held, release;
  std::thread holder([&] {
    std::lock_guard guard(lock);
    held.set();
    release.wait();
  });
  held.wait();
  {
    StopSoon stop;
    EXPECT_THROW((void)lock.acquire(stop.token()), mp::Interrupted);
  }
  release.set();
  holder.join();
  mp::Condition cond;
  {
    std::unique_lock guard(cond);
    StopSoon stop;
    EXPECT_THROW(cond.wait_for([] { return false; }, stop.token()), mp::Interrupted);
  }
  mp::Barrier barrier(2);
  {
    StopSoon stop;
    EXPECT_THROW(barrier.wait(stop.token()), mp::Interrupted);
  }
  EXPECT_TRUE(barrier.broken());
}

TEST(StopToken, PoolResultsMapAndImap) {
  mp::Pool pool({.processes = 1});
  auto r = pool.apply_async(wait_for_gate, 1);
  {
    StopSoon stop;
    EXPECT_THROW(r.get(stop.token()), mp::Interrupted);
  }
  {
    StopSoon stop;
    EXPECT_THROW(pool.map(wait_for_gate, std::vector<int>{1, 2}, {.stop = stop.token()}),
                 mp::Interrupted);
  }
  {
    StopSoon stop;
    auto results = pool.imap(wait_for_gate, std::vector<int>{1, 2}, {.stop = stop.token()});
    EXPECT_THROW((void)results.begin(), mp::Interrupted);
  }
  pool.terminate();
}
