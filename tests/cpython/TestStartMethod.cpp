// Ported from CPython's Lib/test/_test_multiprocessing.py, class
// TestStartMethod (line numbers: CPython 3.11.2). A child's default start
// method is the one that started it, under every method.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "helpers/start_methods.hpp"
#include "multiproc/context.hpp"
#include "multiproc/error.hpp"

namespace mp = multiproc;

namespace {

void report_start_method(mp::Connection out) {
  out.send(std::string(mp::to_string(mp::get_start_method())));
}

// TestStartMethod.check_context, line 5219: the child's get_start_method().
std::string child_start_method(const mp::Context& ctx) {
  auto [r, w] = ctx.Pipe(false);
  mp::Process p = ctx.Process(report_start_method, std::move(w));
  p.start();
  std::string method = r.recv<std::string>();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  return method;
}

void report_grandchild_start_method(mp::Connection out) {
  // This child's own default method starts the grandchild.
  auto [r, w] = mp::Pipe(false);
  mp::Process p(report_start_method, std::move(w));
  p.start();
  out.send(r.recv<std::string>());
  p.join();
}

class TestStartMethod : public ::testing::TestWithParam<mp::StartMethod> {};

// TestStartMethod.test_context, line 5229.
TEST_P(TestStartMethod, test_context) {
  mp::Context ctx = mp::get_context(GetParam());
  EXPECT_EQ(ctx.start_method(), GetParam());
  EXPECT_EQ(child_start_method(ctx), mp::to_string(GetParam()));
}

// A grandchild is started with the child's method too (a spawned child
// spawns, a forkserver child uses the forkserver).
TEST_P(TestStartMethod, test_context_grandchild) {
  mp::Context ctx = mp::get_context(GetParam());
  auto [r, w] = ctx.Pipe(false);
  mp::Process p = ctx.Process(report_grandchild_start_method, std::move(w));
  p.start();
  EXPECT_EQ(r.recv<std::string>(), mp::to_string(GetParam()));
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

// TestStartMethod.test_set_get, line 5241.
TEST_P(TestStartMethod, test_set_get) {
  const mp::StartMethod old = mp::get_start_method();
  mp::set_start_method(GetParam(), true);
  EXPECT_EQ(mp::get_start_method(), GetParam());
  EXPECT_EQ(mp::get_context().start_method(), GetParam());
  EXPECT_THROW(mp::set_start_method(GetParam()), mp::UsageError);  // set twice without force
  EXPECT_EQ(child_start_method(mp::get_context()), mp::to_string(GetParam()));
  mp::set_start_method(old, true);
}

INSTANTIATE_TEST_SUITE_P(Methods, TestStartMethod, mp::testing::kAllStartMethods,
                         mp::testing::start_method_name);

// TestStartMethod.test_get_all, line 5263: all three on Linux, the default first.
TEST(TestStartMethodAll, test_get_all) {
  auto all = mp::get_all_start_methods();
  ASSERT_EQ(all.size(), 3U);
  EXPECT_EQ(all.front(), mp::get_start_method());
  for (mp::StartMethod m :
       {mp::StartMethod::fork, mp::StartMethod::spawn, mp::StartMethod::forkserver}) {
    EXPECT_NE(std::find(all.begin(), all.end(), m), all.end()) << mp::to_string(m);
  }
}

}  // namespace
