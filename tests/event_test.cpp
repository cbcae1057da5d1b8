// Event: waiting across processes, deadlines, and set() from a signal
// handler while the same thread and other processes wait (RELIABILITY 13).
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "helpers/leak_check.hpp"
#include "multiproc/multiproc.hpp"

namespace mp = multiproc;
using namespace std::chrono_literals;

TEST(Event, SetClearAndIsSet) {
  mp::Event e;
  EXPECT_FALSE(e.is_set());
  e.set();
  EXPECT_TRUE(e.is_set());
  e.set();  // setting a set event changes nothing
  EXPECT_TRUE(e.is_set());
  e.clear();
  EXPECT_FALSE(e.is_set());
  e.clear();
  EXPECT_FALSE(e.is_set());
}

TEST(Event, WaitWithTimeoutTimesOutWhenNotSetAndReturnsAtOnceWhenSet) {
  mp::Event e;
  EXPECT_FALSE(e.wait(10ms));
  EXPECT_FALSE(e.wait(0ns));
  e.set();
  EXPECT_TRUE(e.wait(0ns));
  EXPECT_TRUE(e.wait(10s));
  e.wait();
}

TEST(Event, SetWakesEveryWaiterInOtherProcesses) {
  mp::Event e;
  std::vector<mp::Process> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([](mp::Event ev) { return ev.wait(30s) ? 0 : 1; }, e);
  }
  for (auto& w : waiters) w.start();
  e.set();
  for (auto& w : waiters) {
    w.join();
    EXPECT_EQ(w.exitcode(), 0);
  }
}

TEST(Event, AChildSetsTheEventTheParentWaitsOn) {
  mp::Event e;
  mp::Process setter([](mp::Event ev) { ev.set(); }, e);
  setter.start();
  EXPECT_TRUE(e.wait(30s));
  setter.join();
}

TEST(Event, ASetFollowedByAClearStillWakesASleepingWaiter) {
  // As Python's wait(), which returns True when the event was set during
  // the wait even if it was cleared before the waiter ran.
  mp::Event e;
  std::atomic<pid_t> tid{0};
  std::atomic<int> result{-1};
  std::thread waiter([&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    result = e.wait(30s) ? 1 : 0;
  });
  while (tid.load() == 0) sched_yield();
  // Wait until the thread sleeps: the event wait is all it does.
  std::string stat_path = "/proc/self/task/" + std::to_string(tid.load()) + "/stat";
  for (;;) {
    std::string line;
    FILE* f = fopen(stat_path.c_str(), "re");
    ASSERT_NE(f, nullptr);
    char buf[512] = {};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    line.assign(buf, n);
    auto close = line.rfind(')');
    if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'S') break;
    sched_yield();
  }
  e.set();
  e.clear();
  waiter.join();
  EXPECT_EQ(result.load(), 1);
}

TEST(Event, FromFdSharesTheFlagAndChecksTheKind) {
  mp::Event e;
  mp::Semaphore s;
  mp::Event adopted = mp::Event::from_fd(e.fd());
  adopted.set();
  EXPECT_TRUE(e.is_set());
  EXPECT_THROW(mp::Event::from_fd(s.fd()), mp::UsageError);
}

TEST(Event, WaitingOnAMovedFromHandleIsAUsageError) {
  mp::Event e;
  mp::Event other = std::move(e);
  EXPECT_THROW(e.wait(), mp::UsageError);  // NOLINT(bugprone-use-after-move)
  EXPECT_THROW((void)e.wait(1s), mp::UsageError);
  EXPECT_THROW(e.set(), mp::UsageError);
  EXPECT_THROW((void)e.is_set(), mp::UsageError);
  other.set();
  EXPECT_TRUE(other.is_set());
}

namespace {

mp::Event* g_stop = nullptr;
void set_stop(int) {
  g_stop->set();
}

}  // namespace

TEST(Event, SetFromASignalHandlerNeverDeadlocksAndWakesEveryWaiter) {
  // RELIABILITY 13, 1,000 times: a child sends SIGTERM to this process,
  // whose handler sets the event, while this same thread waits on it, while
  // another process waits on it and the sender polls is_set(). Python
  // deadlocks here (its set() takes a lock the interrupted wait holds).
  constexpr int kRounds = 1000;
  mp::Event stop;
  mp::Semaphore go_waiter(0), go_sender(0), done(0);
  g_stop = &stop;
  struct sigaction sa {
  }, old{};
  sa.sa_handler = set_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, &old);

  mp::ProcessOptions daemon{.daemon = true};
  mp::Process waiter(
      daemon,
      [](mp::Event ev, mp::Semaphore go, mp::Semaphore d) {
        for (int i = 0; i < kRounds; ++i) {
          if (!go.acquire(30s) || !ev.wait(30s)) return 1;
          d.release();
        }
        return 0;
      },
      stop, go_waiter, done);
  mp::Process sender(
      daemon,
      [](mp::Event ev, mp::Semaphore go, mp::Semaphore d, pid_t target) {
        for (int i = 0; i < kRounds; ++i) {
          if (!go.acquire(30s)) return 1;
          kill(target, SIGTERM);
          auto give_up = std::chrono::steady_clock::now() + 30s;
          while (!ev.is_set()) {  // the poller
            if (std::chrono::steady_clock::now() > give_up) return 2;
            sched_yield();
          }
          d.release();
        }
        return 0;
      },
      stop, go_sender, done, getpid());
  waiter.start();
  sender.start();
  for (int i = 0; i < kRounds; ++i) {
    stop.clear();  // both children saw the last round's set: done was released twice
    go_waiter.release();
    go_sender.release();
    ASSERT_TRUE(stop.wait(30s)) << "round " << i;
    ASSERT_TRUE(done.acquire(30s)) << "round " << i;
    ASSERT_TRUE(done.acquire(30s)) << "round " << i;
  }
  waiter.join();
  sender.join();
  sigaction(SIGTERM, &old, nullptr);
  g_stop = nullptr;
  EXPECT_EQ(waiter.exitcode(), 0);
  EXPECT_EQ(sender.exitcode(), 0);
}
