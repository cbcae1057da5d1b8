// Lock and RLock: exclusion across processes, deadlines, misuse, and the
// death of an owner (RELIABILITY 26).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <thread>

#include "helpers/test_pipe.hpp"
#include "multiproc/multiproc.hpp"

namespace mp = multiproc;
using mp::AcquireResult;
using mp::testing::TestPipe;
using namespace std::chrono_literals;

namespace {

// A child that takes `lock` (at `depth` levels for an RLock), reports "held"
// and waits to be killed.
template <class L>
void hold_until_killed(L lock, const TestPipe& ready, int depth) {
  for (int i = 0; i < depth; ++i) {
    if (lock.acquire() != AcquireResult::acquired) std::_Exit(9);
  }
  ready.write("held");
  for (;;) pause();
}

// Starts a child holding `lock` and SIGKILLs it: the lock's owner died.
template <class L>
void kill_an_owner_of(const L& lock, int depth = 1) {
  TestPipe ready;
  mp::Process owner(hold_until_killed<L>, lock, std::ref(ready), depth);
  owner.start();
  ASSERT_EQ(ready.read_some(4), "held");
  owner.kill();
  owner.join();
  ASSERT_EQ(owner.exitcode(), -SIGKILL);
}

// What try_acquire() says in another process, as an exit code.
template <class L>
int try_acquire_elsewhere(const L& lock) {
  mp::Process p(
      [](L l) {
        AcquireResult r = l.try_acquire();
        if (r == AcquireResult::acquired) l.release();
        return static_cast<int>(r);
      },
      lock);
  p.start();
  p.join();
  return *p.exitcode();
}

constexpr int kAcquired = static_cast<int>(AcquireResult::acquired);
constexpr int kTimedOut = static_cast<int>(AcquireResult::timed_out);

}  // namespace

TEST(Lock, AcquireExcludesOtherProcessesUntilRelease) {
  mp::Lock lock;
  ASSERT_EQ(lock.acquire(), AcquireResult::acquired);
  EXPECT_EQ(try_acquire_elsewhere(lock), kTimedOut);
  lock.release();
  EXPECT_EQ(try_acquire_elsewhere(lock), kAcquired);
}

TEST(Lock, ProtectsARaceOfManyProcesses) {
  mp::Lock lock;
  mp::Value<long> counter(0, mp::no_lock);
  constexpr int kChildren = 4, kRounds = 5000;
  std::vector<mp::Process> children;
  for (int i = 0; i < kChildren; ++i) {
    children.emplace_back(
        [](mp::Lock l, mp::Value<long> c) {
          for (int n = 0; n < kRounds; ++n) {
            std::lock_guard guard(l);
            c.get_obj() = c.get_obj() + 1;  // a read and a write: races without the lock
          }
        },
        lock, counter);
  }
  for (auto& c : children) c.start();
  for (auto& c : children) c.join();
  for (auto& c : children) EXPECT_EQ(c.exitcode(), 0);
  EXPECT_EQ(counter.value(), kChildren * kRounds);
}

TEST(Lock, AForkedChildDoesNotOwnALockItsParentHolds) {
  // The child's thread has its own identity, not a copy of the parent's.
  mp::Lock lock;
  ASSERT_EQ(lock.acquire(), AcquireResult::acquired);
  mp::Process child(
      [](mp::Lock l) {
        try {
          l.release();
        } catch (const mp::UsageError&) {
          return l.try_acquire() == AcquireResult::timed_out ? 0 : 2;
        }
        return 1;
      },
      lock);
  child.start();
  child.join();
  EXPECT_EQ(child.exitcode(), 0);
  lock.release();
}

TEST(Lock, AcquireWithTimeoutTimesOutWhileAnotherProcessHoldsIt) {
  mp::Lock lock;
  ASSERT_EQ(lock.acquire(), AcquireResult::acquired);
  mp::Process p([](mp::Lock l) { return static_cast<int>(l.acquire(20ms)); }, lock);
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), kTimedOut);
  lock.release();
}

TEST(Lock, TryAcquireOfALockThisThreadHoldsIsTimedOut) {
  mp::Lock lock;
  ASSERT_EQ(lock.try_acquire(), AcquireResult::acquired);
  EXPECT_EQ(lock.try_acquire(), AcquireResult::timed_out);
  EXPECT_FALSE(lock.try_lock());
  lock.release();
}

TEST(Lock, AcquiringTwiceFromOneThreadIsAUsageErrorNotADeadlock) {
  mp::Lock lock;
  ASSERT_EQ(lock.acquire(), AcquireResult::acquired);
  EXPECT_THROW((void)lock.acquire(), mp::UsageError);
  EXPECT_THROW((void)lock.acquire(1s), mp::UsageError);
  EXPECT_THROW(lock.lock(), mp::UsageError);
  lock.release();
}

TEST(Lock, ReleasingALockOneDoesNotHoldIsAUsageError) {
  mp::Lock lock;
  EXPECT_THROW(lock.release(), mp::UsageError);
  // Nor one another process holds.
  TestPipe ready;
  mp::Process holder(hold_until_killed<mp::Lock>, lock, std::ref(ready), 1);
  holder.start();
  ASSERT_EQ(ready.read_some(4), "held");
  try {
    lock.release();
    ADD_FAILURE() << "release of a lock held elsewhere succeeded";
  } catch (const mp::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("does not hold"), std::string::npos) << e.what();
  }
  holder.kill();
  holder.join();
}

TEST(Lock, MakeConsistentWithoutAnOwnerDeathIsAUsageError) {
  mp::Lock lock;
  ASSERT_EQ(lock.acquire(), AcquireResult::acquired);
  EXPECT_THROW(lock.make_consistent(), mp::UsageError);
  lock.release();
}

TEST(Lock, DeathOfTheOwnerIsReportedAndRecoverable) {
  mp::Lock lock;
  kill_an_owner_of(lock);
  ASSERT_EQ(lock.acquire(), AcquireResult::owner_died);
  lock.make_consistent();
  lock.release();
  EXPECT_EQ(lock.acquire(1s), AcquireResult::acquired);
  lock.release();
  EXPECT_EQ(try_acquire_elsewhere(lock), kAcquired);
}

TEST(Lock, AWaiterBlockedOnTheLockLearnsOfTheOwnersDeath) {
  mp::Lock lock;
  TestPipe ready, gate;
  // The owner dies by itself once released from the gate, while this process
  // is (most likely) already blocked in acquire(): it must not block forever.
  mp::Process owner(
      mp::ProcessOptions{.pass_fds = {gate.read_fd()}},
      [](mp::Lock l, const TestPipe& r, int g) {
        if (l.acquire() != AcquireResult::acquired) std::_Exit(9);
        r.write("held");
        char c;
        while (read(g, &c, 1) < 0 && errno == EINTR) {
        }
        raise(SIGKILL);
      },
      lock, std::ref(ready), gate.read_fd());
  owner.start();
  ASSERT_EQ(ready.read_some(4), "held");
  gate.close_write();
  EXPECT_EQ(lock.acquire(), AcquireResult::owner_died);
  lock.make_consistent();
  lock.release();
  owner.join();
  EXPECT_EQ(owner.exitcode(), -SIGKILL);
}

TEST(Lock, AThreadThatExitsHoldingTheLockIsAnOwnerDeathToo) {
  mp::Lock lock;
  std::thread owner([&lock] { ASSERT_EQ(lock.acquire(), AcquireResult::acquired); });
  owner.join();
  EXPECT_EQ(lock.acquire(), AcquireResult::owner_died);
  lock.make_consistent();
  lock.release();
}

TEST(Lock, TimedAndTryAcquireAlsoReportTheOwnersDeath) {
  mp::Lock a, b;
  kill_an_owner_of(a);
  kill_an_owner_of(b);
  EXPECT_EQ(a.acquire(10s), AcquireResult::owner_died);
  EXPECT_EQ(b.try_acquire(), AcquireResult::owner_died);
  a.make_consistent();
  b.make_consistent();
  a.release();
  b.release();
}

TEST(Lock, ReleasedWithoutMakeConsistentTheLockIsNotRecoverable) {
  mp::Lock lock;
  kill_an_owner_of(lock);
  ASSERT_EQ(lock.acquire(), AcquireResult::owner_died);
  lock.release();
  EXPECT_THROW((void)lock.acquire(), mp::LockNotRecoverable);
  EXPECT_THROW((void)lock.try_acquire(), mp::LockNotRecoverable);
  EXPECT_THROW((void)lock.acquire(1s), mp::LockNotRecoverable);
  mp::Process p(
      [](mp::Lock l) {
        try {
          (void)l.acquire();
        } catch (const mp::LockNotRecoverable&) {
          return 0;
        }
        return 1;
      },
      lock);
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST(Lock, LockGuardAfterAnOwnerDeathThrowsOwnerDiedThenNotRecoverable) {
  mp::Lock lock;
  kill_an_owner_of(lock);
  try {
    std::lock_guard guard(lock);
    ADD_FAILURE() << "lock() returned after an owner death";
  } catch (const mp::OwnerDied& e) {
    EXPECT_NE(std::string(e.what()).find("unrecoverable"), std::string::npos) << e.what();
  }
  // lock() released it unrepaired: no one may trust the state again.
  EXPECT_THROW(std::lock_guard guard(lock), mp::LockNotRecoverable);
  EXPECT_THROW((void)lock.acquire(), mp::LockNotRecoverable);
}

TEST(Lock, CopiesAndHandlesFromTheDescriptorAreTheSameLock) {
  mp::Lock lock;
  mp::Lock copy = lock;  // NOLINT(performance-unnecessary-copy-initialization)
  mp::Lock adopted = mp::Lock::from_fd(lock.fd());
  EXPECT_NE(adopted.fd(), lock.fd());  // its own duplicate
  ASSERT_EQ(copy.acquire(), AcquireResult::acquired);
  EXPECT_EQ(try_acquire_elsewhere(adopted), kTimedOut);
  adopted.release();  // the same lock, held by this thread
  EXPECT_EQ(try_acquire_elsewhere(lock), kAcquired);
}

TEST(Lock, APassedLockKeepsItsDescriptorInTheChildACapturedOneDoesNot) {
  mp::Lock lock;
  mp::Process passed(
      [](mp::Lock l) {
        mp::Lock again = mp::Lock::from_fd(l.fd());
        return again.try_acquire() == AcquireResult::acquired ? 0 : 1;
      },
      lock);
  passed.start();
  passed.join();
  EXPECT_EQ(passed.exitcode(), 0);

  mp::Process captured([lock] {
    try {
      (void)lock.fd();
    } catch (const mp::UsageError&) {
      return 0;  // the mapping is there, the descriptor is not
    }
    return 1;
  });
  captured.start();
  captured.join();
  EXPECT_EQ(captured.exitcode(), 0);
}

TEST(Lock, FromFdRefusesADescriptorThatIsNotALock) {
  mp::Event event;
  mp::RLock rlock;
  try {
    mp::Lock::from_fd(event.fd());
    ADD_FAILURE() << "an Event's descriptor was taken for a Lock";
  } catch (const mp::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("Event"), std::string::npos) << e.what();
  }
  EXPECT_THROW(mp::Lock::from_fd(rlock.fd()), mp::UsageError);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_THROW(mp::Lock::from_fd(null_fd), mp::UsageError);
  close(null_fd);
  EXPECT_THROW(mp::Lock::from_fd(-1), mp::UsageError);
  mp::SharedMemory raw(4096);  // a memfd without a multiproc header
  EXPECT_THROW(mp::Lock::from_fd(raw.fd()), mp::UsageError);
}

TEST(Lock, AMovedFromHandleIsAUsageError) {
  mp::Lock lock;
  mp::Lock other = std::move(lock);
  EXPECT_THROW((void)lock.acquire(), mp::UsageError);  // NOLINT(bugprone-use-after-move)
  EXPECT_THROW(lock.release(), mp::UsageError);
  EXPECT_THROW((void)lock.fd(), mp::UsageError);
  EXPECT_EQ(other.acquire(), AcquireResult::acquired);
  other.release();
}

TEST(RLock, IsRecursiveAndReleasedAsOftenAsAcquired) {
  mp::RLock lock;
  ASSERT_EQ(lock.acquire(), AcquireResult::acquired);
  ASSERT_EQ(lock.acquire(1s), AcquireResult::acquired);
  ASSERT_EQ(lock.try_acquire(), AcquireResult::acquired);
  lock.release();
  lock.release();
  EXPECT_EQ(try_acquire_elsewhere(lock), kTimedOut);
  lock.release();
  EXPECT_THROW(lock.release(), mp::UsageError);
  EXPECT_EQ(try_acquire_elsewhere(lock), kAcquired);
}

TEST(RLock, AForkedChildCannotReenterALockItsParentHolds) {
  mp::RLock lock;
  ASSERT_EQ(lock.acquire(), AcquireResult::acquired);
  EXPECT_EQ(try_acquire_elsewhere(lock), kTimedOut);
  lock.release();
}

TEST(RLock, AcquireWithTimeoutTimesOutWhileAnotherProcessHoldsIt) {
  mp::RLock lock;
  ASSERT_EQ(lock.acquire(), AcquireResult::acquired);
  mp::Process p([](mp::RLock l) { return static_cast<int>(l.acquire(20ms)); }, lock);
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), kTimedOut);
  lock.release();
}

TEST(RLock, DeathOfAnOwnerHoldingSeveralLevelsIsReportedAndRecoverable) {
  mp::RLock lock;
  kill_an_owner_of(lock, 3);
  ASSERT_EQ(lock.acquire(), AcquireResult::owner_died);
  lock.make_consistent();
  lock.release();  // the dead owner's levels are gone: one release frees it
  EXPECT_THROW(lock.release(), mp::UsageError);
  EXPECT_EQ(try_acquire_elsewhere(lock), kAcquired);
}

TEST(RLock, ReleasedWithoutMakeConsistentTheLockIsNotRecoverable) {
  mp::RLock lock;
  kill_an_owner_of(lock);
  ASSERT_EQ(lock.acquire(), AcquireResult::owner_died);
  lock.release();
  EXPECT_THROW((void)lock.acquire(), mp::LockNotRecoverable);
}

TEST(RLock, UniqueLockAfterAnOwnerDeathThrowsOwnerDiedThenNotRecoverable) {
  mp::RLock lock;
  kill_an_owner_of(lock, 2);
  EXPECT_THROW(std::unique_lock guard(lock), mp::OwnerDied);
  EXPECT_THROW(std::unique_lock guard(lock), mp::LockNotRecoverable);
}

TEST(RLock, FromFdSharesTheLockAndRefusesALock) {
  mp::RLock lock;
  mp::Lock plain;
  mp::RLock adopted = mp::RLock::from_fd(lock.fd());
  ASSERT_EQ(lock.acquire(), AcquireResult::acquired);
  EXPECT_EQ(try_acquire_elsewhere(adopted), kTimedOut);
  lock.release();
  EXPECT_THROW(mp::RLock::from_fd(plain.fd()), mp::UsageError);
}
