// SharedRegion and the futex wrappers: the two primitives that shared
// objects (Event, Lock, Queue, ...) stand on.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstring>

#include "helpers/test_pipe.hpp"
#include "multiproc/multiproc.hpp"
#include "shm/shared_region.hpp"
#include "sys/futex.hpp"

namespace mp = multiproc;
using mp::detail::SharedRegion;
using namespace std::chrono_literals;

TEST(SharedRegion, IsZeroFilledAndSharedWithForkedChildren) {
  auto region = SharedRegion::create(1 << 20, "test");
  auto* bytes = static_cast<unsigned char*>(region->data());
  EXPECT_EQ(region->size(), 1u << 20);
  EXPECT_EQ(bytes[0], 0);
  EXPECT_EQ(bytes[(1 << 20) - 1], 0);
  mp::Process p([bytes] { std::memset(bytes, 7, 1 << 20); });
  p.start();
  p.join();
  EXPECT_EQ(bytes[0], 7);
  EXPECT_EQ(bytes[(1 << 20) - 1], 7);
}

TEST(SharedRegion, AdoptMapsTheSameMemoryThroughTheDescriptor) {
  auto region = SharedRegion::create(4096, "test");
  auto again = SharedRegion::adopt(mp::sys::UniqueFd(fcntl(region->fd(), F_DUPFD_CLOEXEC, 0)));
  EXPECT_EQ(again->size(), 4096u);
  static_cast<char*>(region->data())[10] = 'x';
  EXPECT_EQ(static_cast<char*>(again->data())[10], 'x');
}

TEST(SharedRegion, DescriptorIsCloseOnExec) {
  auto region = SharedRegion::create(4096, "test");
  EXPECT_TRUE(fcntl(region->fd(), F_GETFD) & FD_CLOEXEC);
}

TEST(SharedRegion, ZeroOrAbsurdSizesAreRefused) {
  EXPECT_THROW(SharedRegion::create(0, "test"), mp::UsageError);
  EXPECT_THROW(SharedRegion::create(std::size_t{1} << 50, "test"), mp::UsageError);
}

TEST(SharedRegion, AdoptRefusesADescriptorThatIsNotARegion) {
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_THROW(SharedRegion::adopt(mp::sys::UniqueFd(fd)), mp::UsageError);
}

TEST(Futex, WaitTimesOutOnTheMonotonicDeadline) {
  std::atomic<std::uint32_t> word{0};
  EXPECT_EQ(mp::sys::futex_wait(word, 0, mp::sys::Deadline::after(1ms)), -ETIMEDOUT);
}

TEST(Futex, WaitReturnsAtOnceWhenTheValueDiffers) {
  std::atomic<std::uint32_t> word{1};
  EXPECT_EQ(mp::sys::futex_wait(word, 0, mp::sys::Deadline::never()), 0);
}

TEST(Futex, WakeReachesAWaiterInAnotherProcess) {
  auto region = SharedRegion::create(4096, "test");
  auto* word = new (region->data()) std::atomic<std::uint32_t>(0);
  mp::testing::TestPipe ready;
  mp::Process waiter(
      [word](const mp::testing::TestPipe& r) {
        r.write("r");
        while (word->load() == 0) mp::sys::futex_wait(*word, 0, mp::sys::Deadline::never());
        return static_cast<int>(word->load());
      },
      std::ref(ready));
  waiter.start();
  ASSERT_EQ(ready.read_some(1), "r");
  word->store(42);
  mp::sys::futex_wake(*word, INT_MAX);
  waiter.join();
  EXPECT_EQ(waiter.exitcode(), 42);
}

TEST(SharedRegion, NeverClosesADescriptorNumberThatNowNamesAnotherFile) {
  // A forked child that did not receive the region has its descriptor
  // closed; the number may be reused there. Dropping the region must not
  // close that other file.
  auto region = SharedRegion::create(4096, "test");
  const int fd = region->fd();
  mp::Process p([&region, fd] {
    int other = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (other < 0 || dup2(other, fd) != fd) return 2;
    if (region->fd_is_open()) return 3;  // the number names /dev/null now
    region.reset();
    return fcntl(fd, F_GETFD) >= 0 ? 0 : 1;
  });
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_TRUE(region->fd_is_open());
}
