// SharedMemory: anonymous segments, named segments and their tracker, and
// nothing left in /dev/shm after every user is SIGKILLed (RELIABILITY 29).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <string>
#include <thread>

#include "helpers/pidfd.hpp"
#include "helpers/test_pipe.hpp"
#include "multiproc/multiproc.hpp"
#include "sys/syscall.hpp"

namespace mp = multiproc;
using mp::testing::TestPipe;
using namespace std::chrono_literals;

namespace {

std::string unique_name() {
  static int n = 0;
  return "/multiproc-test-" + std::to_string(getpid()) + "-" + std::to_string(++n);
}

bool name_exists(const std::string& name) {
  struct stat st;
  return stat(("/dev/shm" + name).c_str(), &st) == 0;
}

// Waits (at most 30 s) for the tracker `pid` to exit and reaps it: the test
// process is a child subreaper, so the orphaned tracker is its child. Returns
// its wait status, or -1 if it did not exit.
int reap_tracker(pid_t pid) {
  int pidfd = mp::testing::pidfd_open(pid);
  if (pidfd < 0) return -1;
  pollfd p{pidfd, POLLIN, 0};
  int ready = poll(&p, 1, 30'000);
  close(pidfd);
  if (ready != 1) return -1;
  int status = 0;
  return waitpid(pid, &status, 0) == pid ? status : -1;
}

void expect_clean_tracker_exit(pid_t pid) {
  int status = reap_tracker(pid);
  ASSERT_NE(status, -1) << "the tracker did not exit";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

// Reads one decimal number written by a child, up to a newline.
pid_t read_pid(TestPipe& pipe) {
  std::string s;
  while (s.empty() || s.back() != '\n') {
    std::string part = pipe.read_some(1);
    if (part.empty()) return -1;
    s += part;
  }
  return static_cast<pid_t>(std::stol(s));
}

}  // namespace

TEST(SharedMemory, AnonymousIsZeroFilledAndSharedWithChildren) {
  mp::SharedMemory shm(1 << 16);
  EXPECT_EQ(shm.size(), 1u << 16);
  EXPECT_TRUE(shm.name().empty());
  EXPECT_FALSE(shm.tracker_pid().has_value());
  EXPECT_TRUE(std::all_of(shm.buf().begin(), shm.buf().end(),
                          [](std::byte b) { return b == std::byte{0}; }));
  mp::Process p([](mp::SharedMemory m) { std::ranges::fill(m.buf(), std::byte{7}); }, shm);
  p.start();
  p.join();
  EXPECT_EQ(shm.buf()[0], std::byte{7});
  EXPECT_EQ(shm.buf()[(1 << 16) - 1], std::byte{7});
}

TEST(SharedMemory, FromFdMapsTheSameBytes) {
  mp::SharedMemory shm(4096);
  mp::SharedMemory other = mp::SharedMemory::from_fd(shm.fd());
  shm.buf()[100] = std::byte{42};
  EXPECT_EQ(other.buf()[100], std::byte{42});
  EXPECT_EQ(other.size(), 4096u);
  EXPECT_THROW(mp::SharedMemory::from_fd(-1), mp::UsageError);
}

TEST(SharedMemory, ZeroNegativeOrAbsurdSizesAreUsageErrors) {
  EXPECT_THROW(mp::SharedMemory(0), mp::UsageError);
  EXPECT_THROW(mp::SharedMemory(static_cast<std::size_t>(-1)), mp::UsageError);
  std::string name = unique_name();
  EXPECT_THROW(mp::SharedMemory::create(name, 0), mp::UsageError);
  EXPECT_THROW(mp::SharedMemory::create(name, std::size_t{1} << 50), mp::UsageError);
  EXPECT_FALSE(name_exists(name));
}

TEST(SharedMemory, AnAnonymousSegmentHasNoNameToUnlink) {
  mp::SharedMemory shm(4096);
  EXPECT_THROW(shm.unlink(), mp::UsageError);
}

TEST(SharedMemory, BadNamesAreUsageErrors) {
  const std::string bad_names[] = {"", "/", "a/b", "/a/b", "..", "/.", std::string(300, 'x')};
  for (const std::string& bad : bad_names) {
    EXPECT_THROW(mp::SharedMemory::create(bad, 4096), mp::UsageError) << bad;
    EXPECT_THROW(mp::SharedMemory::attach(bad), mp::UsageError) << bad;
  }
}

TEST(SharedMemory, NamedSegmentIsSharedByNameAndUnlinked) {
  std::string name = unique_name();
  pid_t tracker = 0;
  {
    auto shm = mp::SharedMemory::create(name.substr(1), 8192);  // "name" means "/name"
    ASSERT_TRUE(shm.tracker_pid().has_value());
    tracker = *shm.tracker_pid();
    EXPECT_EQ(shm.name(), name);
    EXPECT_TRUE(name_exists(name));
    shm.buf()[0] = std::byte{1};
    mp::Process p(
        [](const std::string& n) {
          auto attached = mp::SharedMemory::attach(n);
          if (attached.size() != 8192 || attached.buf()[0] != std::byte{1}) return 1;
          attached.buf()[1] = std::byte{2};
          return 0;
        },
        name);
    p.start();
    p.join();
    EXPECT_EQ(p.exitcode(), 0);
    EXPECT_EQ(shm.buf()[1], std::byte{2});
    shm.unlink();
    EXPECT_FALSE(name_exists(name));
    EXPECT_EQ(shm.buf()[1], std::byte{2});  // the mapping outlives the name
    EXPECT_THROW(shm.unlink(), mp::SystemError);
  }
  expect_clean_tracker_exit(tracker);
}

TEST(SharedMemory, CreatingATakenNameFailsAndAttachingAMissingOneFails) {
  std::string name = unique_name();
  auto shm = mp::SharedMemory::create(name, 4096);
  try {
    mp::SharedMemory::create(name, 4096);
    ADD_FAILURE() << "a taken name was created again";
  } catch (const mp::SystemError& e) {
    EXPECT_EQ(e.code().value(), EEXIST);
  }
  EXPECT_TRUE(name_exists(name));
  try {
    mp::SharedMemory::attach(unique_name());
    ADD_FAILURE() << "a missing name was attached";
  } catch (const mp::SystemError& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
  }
  pid_t tracker = *shm.tracker_pid();
  shm = mp::SharedMemory(1);  // drop the only handle to the named segment
  expect_clean_tracker_exit(tracker);
  EXPECT_FALSE(name_exists(name));
}

TEST(SharedMemory, TheNameGoesWhenTheLastTrackedHandleGoes) {
  std::string name = unique_name();
  pid_t tracker = 0;
  {
    auto shm = mp::SharedMemory::create(name, 4096);
    tracker = *shm.tracker_pid();
    auto copy = shm;  // copies share the creator's share of the name
  }
  expect_clean_tracker_exit(tracker);
  EXPECT_FALSE(name_exists(name));
}

TEST(SharedMemory, TheTrackerLeavesANewerSegmentOfTheSameNameAlone) {
  std::string name = unique_name();
  auto first = mp::SharedMemory::create(name, 4096);
  pid_t first_tracker = *first.tracker_pid();
  first.unlink();
  auto second = mp::SharedMemory::create(name, 4096);
  pid_t second_tracker = *second.tracker_pid();
  first = mp::SharedMemory(1);
  expect_clean_tracker_exit(first_tracker);
  EXPECT_TRUE(name_exists(name)) << "the old segment's tracker removed the new segment";
  second = mp::SharedMemory(1);
  expect_clean_tracker_exit(second_tracker);
  EXPECT_FALSE(name_exists(name));
}

TEST(SharedMemory, TheTrackerIgnoresTerminalSignals) {
  std::string name = unique_name();
  auto shm = mp::SharedMemory::create(name, 4096);
  pid_t tracker = *shm.tracker_pid();
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGPIPE}) kill(tracker, sig);
  EXPECT_TRUE(name_exists(name));
  shm = mp::SharedMemory(1);
  expect_clean_tracker_exit(tracker);  // exited 0: no signal killed it
  EXPECT_FALSE(name_exists(name));
}

TEST(SharedMemory, CreateWorksInAMultiThreadedProcess) {
  // The tracker is forked with _Fork and runs only async-signal-safe code.
  std::atomic<bool> stop{false};
  std::thread busy([&stop] {
    while (!stop.load()) std::this_thread::yield();
  });
  std::string name = unique_name();
  pid_t tracker = 0;
  {
    auto shm = mp::SharedMemory::create(name, 4096);
    tracker = *shm.tracker_pid();
    EXPECT_TRUE(name_exists(name));
  }
  stop = true;
  busy.join();
  expect_clean_tracker_exit(tracker);
  EXPECT_FALSE(name_exists(name));
}

TEST(SharedMemory, AFailedCreateLeavesNothingBehind) {
  std::string name = unique_name();
  mp::sys::inject_failure(mp::sys::Call::fork, EAGAIN);
  try {
    mp::SharedMemory::create(name, 4096);
    ADD_FAILURE() << "create succeeded without its tracker";
  } catch (const mp::SystemError& e) {
    EXPECT_EQ(e.code().value(), EAGAIN);
  }
  mp::sys::clear_injected_failures();
  EXPECT_FALSE(name_exists(name));
}

TEST(SharedMemory, ChildrenThatReceivedTheHandleKeepTheNameAfterTheCreatorDies) {
  std::string name = unique_name();
  TestPipe report;
  // The creator runs in a child; its own child gets the handle as an argument
  // and does not die with it.
  mp::Process creator(
      [](const std::string& n, const TestPipe& out) {
        auto shm = mp::SharedMemory::create(n, 4096);
        out.write(std::to_string(*shm.tracker_pid()) + "\n");
        mp::Process user(
            mp::ProcessOptions{.die_with_parent = false},
            [](mp::SharedMemory, const TestPipe& o) {
              o.write(std::to_string(getpid()) + "\n");
              for (;;) pause();
            },
            shm, std::ref(out));
        user.start();
        for (;;) pause();
      },
      name, std::ref(report));
  creator.start();
  pid_t tracker = read_pid(report);
  pid_t user = read_pid(report);
  ASSERT_GT(tracker, 0);
  ASSERT_GT(user, 0);
  int user_fd = mp::testing::pidfd_open(user);  // alive and unreaped: the PID is its own
  ASSERT_GE(user_fd, 0);
  creator.kill();
  creator.join();
  // The user (now this process's child) still holds its share of the name.
  EXPECT_TRUE(name_exists(name));
  mp::testing::pidfd_kill(user_fd);
  close(user_fd);
  int status = 0;
  EXPECT_EQ(waitpid(user, &status, 0), user);
  expect_clean_tracker_exit(tracker);
  EXPECT_FALSE(name_exists(name));
}

TEST(SharedMemory, NothingRemainsInDevShmAfterEveryUserIsSigkilled) {
  // RELIABILITY 29: the creator (a child) and the children it started with
  // the segment, some of which also attached it by name, are all SIGKILLed.
  constexpr int kUsers = 3;
  std::string name = unique_name();
  TestPipe report;
  mp::Process creator(
      [](const std::string& n, const TestPipe& out) {
        auto shm = mp::SharedMemory::create(n, 1 << 20);
        out.write(std::to_string(*shm.tracker_pid()) + "\n");
        std::vector<mp::Process> users;
        for (int i = 0; i < kUsers; ++i) {
          users.emplace_back(
              [](mp::SharedMemory m, const std::string& nm, const TestPipe& o) {
                auto again = mp::SharedMemory::attach(nm);
                again.buf()[0] = m.buf()[0];
                o.write(std::to_string(getpid()) + "\n");
                for (;;) pause();
              },
              shm, n, std::ref(out));
        }
        for (auto& u : users) u.start();
        for (;;) pause();
      },
      name, std::ref(report));
  creator.start();
  pid_t tracker = read_pid(report);
  ASSERT_GT(tracker, 0);
  std::vector<pid_t> users;
  std::vector<int> user_fds;
  for (int i = 0; i < kUsers; ++i) {
    users.push_back(read_pid(report));
    ASSERT_GT(users.back(), 0);
    user_fds.push_back(mp::testing::pidfd_open(users.back()));
    ASSERT_GE(user_fds.back(), 0);
  }
  EXPECT_TRUE(name_exists(name));
  for (int fd : user_fds) {
    mp::testing::pidfd_kill(fd);
    close(fd);
  }
  creator.kill();
  creator.join();
  EXPECT_EQ(creator.exitcode(), -SIGKILL);
  // The users were the creator's children: orphaned, they came back to this
  // subreaper. Reap them, then wait for the tracker itself to finish.
  for (pid_t u : users) {
    int status = 0;
    EXPECT_EQ(waitpid(u, &status, 0), u);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }
  expect_clean_tracker_exit(tracker);
  EXPECT_FALSE(name_exists(name)) << name << " was left in /dev/shm";
}
