// Ported from CPython's Lib/test/_test_multiprocessing.py, class _TestEvent
// (line numbers: CPython 3.11.2), under every start method.
//
// Skipped: test_repr (Python's repr() has no C++ counterpart).
#include <gtest/gtest.h>

#include <chrono>

#include "helpers/start_methods.hpp"
#include "multiproc/context.hpp"

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

constexpr auto kTimeout1 = 100ms;  // CPython's TIMEOUT1

// Times a call: the duration it took.
template <class F>
std::chrono::steady_clock::duration timed(F&& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::steady_clock::now() - start;
}

void set_event(mp::Event event) {
  event.set();
}

class TestEvent : public ::testing::TestWithParam<mp::StartMethod> {};

// _TestEvent.test_event, line 1663. CPython's child sleeps before it sets the
// event; here it sets it at once (the wait must see it either way).
TEST_P(TestEvent, test_event) {
  mp::Event event;
  EXPECT_FALSE(event.is_set());

  bool result = true;
  EXPECT_LT(timed([&] { result = event.wait(0ns); }), 10s);
  EXPECT_FALSE(result);
  auto elapsed = timed([&] { result = event.wait(kTimeout1); });
  EXPECT_FALSE(result);
  EXPECT_GE(elapsed, kTimeout1);  // a timed-out wait took its timeout

  event.set();
  EXPECT_TRUE(event.is_set());
  event.wait();  // returns at once
  EXPECT_TRUE(event.wait(kTimeout1));
  EXPECT_TRUE(event.is_set());

  event.clear();
  EXPECT_FALSE(event.is_set());

  mp::Process p = mp::get_context(GetParam()).Process(set_event, event);
  p.start();
  EXPECT_TRUE(event.wait(60s));  // CPython: wait() with no timeout
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_TRUE(event.is_set());
}

INSTANTIATE_TEST_SUITE_P(Methods, TestEvent, mp::testing::kAllStartMethods,
                         mp::testing::start_method_name);

}  // namespace
