// The main of every test binary. ctest runs each test in its own process
// (gtest_discover_tests), with a timeout. This main makes that process a
// child subreaper and fails any test that leaves a child, a zombie or an open
// descriptor behind, then cleans up what was left so nothing outlives it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <sstream>

#include "helpers/leak_check.hpp"
#include "helpers/pidfd.hpp"
#include "multiproc/containment.hpp"
#include "multiproc/init.hpp"

namespace {

class LeakListener : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo&) override { fds_ = multiproc::testing::open_fds(); }

  void OnTestEnd(const ::testing::TestInfo&) override {
    auto children = multiproc::testing::children_of(getpid());
    // A program the test killed leaves its containment guardian to this
    // subreaper; the guardian ends its trees and exits by itself within
    // milliseconds (docs/containment.md). Wait for it (bounded) and reap it.
    std::erase_if(children, [](const auto& c) {
      if (c.command != "mp-cgroup-guard") return false;
      int pidfd = multiproc::testing::pidfd_open(c.pid);
      bool ended = pidfd >= 0 && multiproc::testing::wait_readable(pidfd, 10000);
      if (pidfd >= 0) ::close(pidfd);
      if (ended) waitpid(c.pid, nullptr, 0);
      return ended;
    });
    if (!children.empty()) {
      std::ostringstream msg;
      msg << "test left " << children.size() << " child process(es):";
      for (const auto& c : children)
        msg << " [pid " << c.pid << " state " << c.state << " " << c.command << "]";
      ADD_FAILURE() << msg.str();
      for (const auto& c : children) {
        kill(c.pid, SIGKILL);
        waitpid(c.pid, nullptr, 0);
      }
    }
    auto now = multiproc::testing::open_fds();
    if (now != fds_) {
      std::ostringstream msg;
      msg << "open descriptors changed during the test: before {";
      for (int fd : fds_) msg << ' ' << fd;
      msg << " } after {";
      for (int fd : now) msg << ' ' << fd;
      msg << " }";
      ADD_FAILURE() << msg.str();
    }
  }

  std::set<int> fds_;
};

}  // namespace

int main(int argc, char** argv) {
  // First: in a child started by spawn this runs the child's task and exits.
  // The forkserver starts now, while the process is single-threaded.
  multiproc::init(argc, argv, {.forkserver = true});
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  // The containment session (a descriptor and its guardian, which this
  // subreaper adopts) exists before any test's snapshot of descriptors and
  // children; Pool workers are contained by default (docs/containment.md).
  (void)multiproc::containment_mechanism();
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::UnitTest::GetInstance()->listeners().Append(new LeakListener);
  return RUN_ALL_TESTS();
}
