// Semaphore and BoundedSemaphore: counting across processes, deadlines,
// misuse, and release() from a signal handler.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "helpers/test_pipe.hpp"
#include "multiproc/multiproc.hpp"

namespace mp = multiproc;
using mp::testing::TestPipe;
using namespace std::chrono_literals;

TEST(Semaphore, CountsUnits) {
  mp::Semaphore s(2);
  EXPECT_EQ(s.get_value(), 2);
  EXPECT_TRUE(s.try_acquire());
  EXPECT_TRUE(s.try_acquire());
  EXPECT_FALSE(s.try_acquire());
  EXPECT_EQ(s.get_value(), 0);
  s.release();
  s.release();
  s.release();  // a plain Semaphore may grow past its initial value
  EXPECT_EQ(s.get_value(), 3);
}

TEST(Semaphore, DefaultValueIsOneAsInPython) {
  mp::Semaphore s;
  EXPECT_EQ(s.get_value(), 1);
}

TEST(Semaphore, AcquireWithTimeoutTimesOutWhenEmpty) {
  mp::Semaphore s(0);
  EXPECT_FALSE(s.acquire(10ms));
  EXPECT_FALSE(s.acquire(0ns));
  s.release();
  EXPECT_TRUE(s.acquire(0ns));
}

TEST(Semaphore, ANegativeValueIsAUsageError) {
  EXPECT_THROW(mp::Semaphore(-1), mp::UsageError);
  EXPECT_THROW(mp::BoundedSemaphore(0), mp::UsageError);
  EXPECT_THROW(mp::BoundedSemaphore(-5), mp::UsageError);
}

TEST(Semaphore, ReleaseWakesWaitersInOtherProcesses) {
  mp::Semaphore s(0);
  std::vector<mp::Process> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back([](mp::Semaphore sem) { return sem.acquire(30s) ? 0 : 1; }, s);
  }
  for (auto& w : waiters) w.start();
  for (int i = 0; i < 3; ++i) s.release();
  for (auto& w : waiters) {
    w.join();
    EXPECT_EQ(w.exitcode(), 0);
  }
  EXPECT_EQ(s.get_value(), 0);
}

TEST(Semaphore, HandsOffBetweenTwoProcessesManyTimes) {
  mp::Semaphore ping(0), pong(0);
  constexpr int kRounds = 2000;
  mp::Process echo(
      [](mp::Semaphore in, mp::Semaphore out) {
        for (int i = 0; i < kRounds; ++i) {
          if (!in.acquire(30s)) return 1;
          out.release();
        }
        return 0;
      },
      ping, pong);
  echo.start();
  for (int i = 0; i < kRounds; ++i) {
    ping.release();
    ASSERT_TRUE(pong.acquire(30s)) << "round " << i;
  }
  echo.join();
  EXPECT_EQ(echo.exitcode(), 0);
}

TEST(BoundedSemaphore, OverReleaseIsAUsageErrorAndChangesNothing) {
  mp::BoundedSemaphore s(2);
  EXPECT_EQ(s.max_value(), 2);
  EXPECT_THROW(s.release(), mp::UsageError);
  EXPECT_EQ(s.get_value(), 2);
  ASSERT_TRUE(s.try_acquire());
  s.release();
  try {
    s.release();
    ADD_FAILURE() << "over-release accepted";
  } catch (const mp::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("too many times"), std::string::npos) << e.what();
  }
}

TEST(BoundedSemaphore, OverReleaseInAnotherProcessIsAlsoRefused) {
  mp::BoundedSemaphore s(1);
  mp::Process p(
      [](mp::BoundedSemaphore sem) {
        try {
          sem.release();
        } catch (const mp::UsageError&) {
          return 0;
        }
        return 1;
      },
      s);
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(s.get_value(), 1);
}

TEST(Semaphore, FromFdSharesTheCountAndChecksTheKind) {
  mp::Semaphore s(0);
  mp::BoundedSemaphore b(1);
  mp::Semaphore adopted = mp::Semaphore::from_fd(s.fd());
  adopted.release();
  EXPECT_EQ(s.get_value(), 1);
  EXPECT_THROW(mp::Semaphore::from_fd(b.fd()), mp::UsageError);
  EXPECT_THROW(mp::BoundedSemaphore::from_fd(s.fd()), mp::UsageError);
  EXPECT_EQ(mp::BoundedSemaphore::from_fd(b.fd()).max_value(), 1);
}

TEST(Semaphore, AMovedFromHandleIsAUsageError) {
  mp::Semaphore s(1);
  mp::Semaphore t = std::move(s);
  EXPECT_THROW(s.acquire(), mp::UsageError);  // NOLINT(bugprone-use-after-move)
  EXPECT_THROW(s.release(), mp::UsageError);
  EXPECT_TRUE(t.try_acquire());
}

namespace {
mp::Semaphore* g_released_by_handler = nullptr;
void release_from_handler(int) {
  g_released_by_handler->release();
}
}  // namespace

TEST(Semaphore, ReleaseFromASignalHandlerWakesTheInterruptedWaiter) {
  // Another process signals this one while it waits on the semaphore that
  // the handler releases: each signal must end one wait.
  mp::Semaphore units(0), go(0);
  g_released_by_handler = &units;
  struct sigaction sa {
  }, old{};
  sa.sa_handler = release_from_handler;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, &old);
  constexpr int kSignals = 500;
  mp::Process sender(
      [](mp::Semaphore g, pid_t target) {
        for (int i = 0; i < kSignals; ++i) {
          if (!g.acquire(30s)) return 1;
          kill(target, SIGUSR1);
        }
        return 0;
      },
      go, getpid());
  sender.start();
  for (int i = 0; i < kSignals; ++i) {
    go.release();
    ASSERT_TRUE(units.acquire(30s)) << "signal " << i;
  }
  sender.join();
  sigaction(SIGUSR1, &old, nullptr);
  g_released_by_handler = nullptr;
  EXPECT_EQ(sender.exitcode(), 0);
  EXPECT_EQ(units.get_value(), 0);
}
