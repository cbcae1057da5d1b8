// ExitStatus, ExceptionInfo and signal names.
#include <gtest/gtest.h>
#include <signal.h>

#include "multiproc/multiproc.hpp"

namespace mp = multiproc;

TEST(ExitStatus, ExitcodeFollowsPythonsSignConvention) {
  EXPECT_EQ(mp::ExitStatus::exited_with(0).exitcode(), 0);
  EXPECT_EQ(mp::ExitStatus::exited_with(255).exitcode(), 255);
  EXPECT_EQ(mp::ExitStatus::killed_by(SIGKILL).exitcode(), -9);
  EXPECT_TRUE(mp::ExitStatus::exited_with(0).success());
  EXPECT_FALSE(mp::ExitStatus::exited_with(1).success());
  EXPECT_FALSE(mp::ExitStatus::killed_by(SIGTERM).success());
}

TEST(ExitStatus, DescribeSaysWhatHappened) {
  EXPECT_EQ(mp::ExitStatus::exited_with(3).describe(), "exited with code 3");
  EXPECT_EQ(mp::ExitStatus::killed_by(SIGKILL).describe(), "killed by signal 9 (SIGKILL)");
  EXPECT_EQ(mp::ExitStatus::killed_by(SIGSEGV, true).describe(),
            "killed by signal 11 (SIGSEGV), core dumped");
  mp::ExitStatus oom = mp::ExitStatus::killed_by(SIGKILL);
  oom.oom_killed = true;  // what a contained child's memory.events says (containment_test)
  EXPECT_EQ(oom.describe(), "killed by signal 9 (SIGKILL) by the kernel's out-of-memory killer");
  EXPECT_NE(oom, mp::ExitStatus::killed_by(SIGKILL));
}

TEST(ExitStatus, SignalNames) {
  EXPECT_EQ(mp::signal_name(SIGTERM), "SIGTERM");
  EXPECT_EQ(mp::signal_name(SIGRTMIN), "SIGRTMIN");
  EXPECT_EQ(mp::signal_name(SIGRTMIN + 3), "SIGRTMIN+3");
  EXPECT_EQ(mp::signal_name(200), "signal 200");
}

TEST(ExceptionInfo, DescribeNamesTypePidAndMessage) {
  mp::ExceptionInfo e{"std::runtime_error", "boom", 42};
  EXPECT_EQ(e.describe(), "std::runtime_error in pid 42: boom");
  EXPECT_EQ((mp::ExceptionInfo{"Custom", "", 7}.describe()), "Custom in pid 7");
}
