// RELIABILITY 38: every supervisor deadline is on CLOCK_MONOTONIC, so a
// wall-clock jump changes nothing. This binary interposes clock_gettime: each
// CLOCK_REALTIME reading is shifted by +1 hour and -1 hour alternately (a
// clock jumping back and forth at every read), while CLOCK_MONOTONIC is
// untouched. Shutdown timeouts, backoff and the intensity window must behave
// exactly as without the jumps.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

#include "helpers/supervisor_helpers.hpp"
#include "multiproc/multiproc.hpp"

namespace {
std::atomic<unsigned> g_realtime_reads{0};
}  // namespace

extern "C" int clock_gettime(clockid_t id, struct timespec* ts) noexcept {
  if (::syscall(SYS_clock_gettime, id, ts) != 0) return -1;
  if (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE) {
    bool forward = g_realtime_reads.fetch_add(1, std::memory_order_relaxed) % 2 == 0;
    ts->tv_sec += forward ? 3600 : -3600;
  }
  return 0;
}

namespace mp = multiproc;
using namespace std::chrono_literals;
using mp::testing::TempDir;

namespace {

mp::ChildSpec sh(const std::string& name, const std::string& script,
                 mp::ChildOptions options = {}) {
  return mp::ChildSpec::command(name, options, {.argv = {"/bin/sh", "-c", script}});
}

}  // namespace

TEST(SupervisorClock, TheInterposerIsInEffect) {
  auto a = std::chrono::system_clock::now();
  auto b = std::chrono::system_clock::now();
  auto jump = a > b ? a - b : b - a;
  EXPECT_GT(jump, 100min) << "clock_gettime is not interposed: the test would prove nothing";
  auto s1 = std::chrono::steady_clock::now();
  auto s2 = std::chrono::steady_clock::now();
  EXPECT_LT(s2 - s1, 1s);
}

TEST(SupervisorClock, ShutdownTimeoutIsUnaffected) {
  mp::Supervisor sup;
  sup.add(
      sh("stubborn", "trap '' TERM; echo stop >&3; exec sleep 1000", {.shutdown_timeout = 300ms}));
  auto t0 = std::chrono::steady_clock::now();
  auto report = sup.run();
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(report.reason, mp::StopReason::group_stop_requested);
  ASSERT_EQ(report.history.size(), 1U);
  EXPECT_EQ(report.history[0].status, mp::ExitStatus::killed_by(SIGKILL));
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 300ms + 5s);
}

TEST(SupervisorClock, BackoffAndIntensityAreUnaffected) {
  mp::Supervisor sup(
      {.max_restarts = 4, .period = 60s, .backoff = {.initial = 100ms, .max = 400ms}});
  sup.add(sh("crasher", "exit 1"));
  auto t0 = std::chrono::steady_clock::now();
  auto report = sup.run();
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(report.reason, mp::StopReason::intensity_exceeded);
  ASSERT_EQ(report.history.size(), 5U) << report;
  std::chrono::milliseconds delays[] = {0ms, 100ms, 200ms, 400ms};
  for (std::size_t k = 0; k < 4; ++k)
    EXPECT_GE(report.history[k + 1].at - report.history[k].at, delays[k]) << report;
  EXPECT_GE(elapsed, 700ms);
  EXPECT_LT(elapsed, 700ms + 10s);
}

TEST(SupervisorClock, SpacedCrashesStillNeverTripTheWindow) {
  TempDir dir;
  std::string counter = dir.file("runs");
  std::string script = "echo x >> '" + counter + "'; n=$(wc -l < '" + counter +
                       "'); if [ \"$n\" -ge 4 ]; then echo enough >&3; exec sleep 1000; fi; "
                       "sleep 0.4; exit 1";
  mp::Supervisor sup(
      {.max_restarts = 1, .period = 200ms, .backoff = {.initial = 1ms, .reset_after = 100ms}});
  sup.add(sh("crasher", script));
  auto report = sup.run();
  EXPECT_EQ(report.reason, mp::StopReason::group_stop_requested) << report;
  EXPECT_EQ(report.find("crasher")->restarts, 3) << report;
}
