// Ported from CPython's Lib/test/_test_multiprocessing.py, class
// _TestSharedMemory (line numbers: CPython 3.11.2): a segment created
// without a name gets a generated one, usable by name elsewhere, and is
// tracked like a named one.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "helpers/pidfd.hpp"
#include "multiproc/error.hpp"
#include "multiproc/shared_memory.hpp"

namespace mp = multiproc;

namespace {

// Waits (at most 60 s) for a tracker to exit, and reaps it: the test
// process is a child subreaper, so the orphaned tracker comes back to it.
bool reap_tracker(pid_t pid) {
  int fd = mp::testing::pidfd_open(pid);
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  bool ended = ::poll(&p, 1, 60'000) == 1;
  ::close(fd);
  return ended && ::waitpid(pid, nullptr, 0) == pid;
}

bool in_dev_shm(const std::string& name) {
  struct stat st {};
  return ::stat(("/dev/shm" + name).c_str(), &st) == 0;
}

// _TestSharedMemory.test_shared_memory_basics, line 3855 (its unnamed case:
// SharedMemory(create=True, size=...) without a name).
TEST(TestSharedMemory, test_shared_memory_basics) {
  std::vector<pid_t> trackers;
  {
    mp::SharedMemory sms = mp::SharedMemory::create(512);
    ASSERT_FALSE(sms.name().empty());
    EXPECT_EQ(sms.name().front(), '/');
    EXPECT_GE(sms.size(), 512U);
    EXPECT_TRUE(in_dev_shm(sms.name()));
    EXPECT_TRUE(sms.tracker_pid().has_value());  // tracked like a named one

    mp::SharedMemory also = mp::SharedMemory::attach(sms.name());
    sms.buf()[0] = std::byte{42};
    EXPECT_EQ(also.buf()[0], std::byte{42});

    mp::SharedMemory other = mp::SharedMemory::create(512);
    EXPECT_NE(other.name(), sms.name());  // each gets a fresh name

    sms.unlink();
    other.unlink();
    EXPECT_FALSE(in_dev_shm(sms.name()));
    trackers = {*sms.tracker_pid(), *other.tracker_pid()};
  }
  for (pid_t t : trackers) EXPECT_TRUE(reap_tracker(t));
}

// A generated name goes when its last tracked handle goes, as a chosen one.
TEST(TestSharedMemory, a_generated_name_is_removed_with_its_handles) {
  std::string name;
  pid_t tracker = 0;
  {
    mp::SharedMemory sms = mp::SharedMemory::create(64);
    name = sms.name();
    EXPECT_TRUE(in_dev_shm(name));
    tracker = *sms.tracker_pid();
  }
  // The tracker removes the name once no tracked handle remains, then exits.
  EXPECT_TRUE(reap_tracker(tracker));
  EXPECT_FALSE(in_dev_shm(name));
}

}  // namespace
