// Ported from CPython's Lib/test/_test_multiprocessing.py, class
// _TestPoolWorkerErrors (line numbers: CPython 3.11.2), under every start
// method.
//
// Skipped: test_unpickleable_result (pickling: a result type that cannot be
// serialized does not compile here).
#include <gtest/gtest.h>

#include <exception>
#include <mutex>
#include <stdexcept>

#include "helpers/start_methods.hpp"
#include "multiproc/error.hpp"
#include "multiproc/pool.hpp"

namespace mp = multiproc;

namespace {

int raising() {
  throw std::out_of_range("key");  // Python: KeyError
}

class TestPoolWorkerErrors : public ::testing::TestWithParam<mp::StartMethod> {};

// _TestPoolWorkerErrors.test_async_error_callback, line 2782: get() throws
// and the error callback got the error. Python raises the KeyError itself;
// here a RemoteError that names std::out_of_range (register_exception keeps
// the type, tests/cpython/TestPool.cpp test_wrapped_exception).
TEST_P(TestPoolWorkerErrors, test_async_error_callback) {
  mp::Pool p({.processes = 2, .start_method = GetParam()});
  std::mutex m;
  std::exception_ptr scratchpad;
  mp::Callbacks<int> callbacks{.error_callback = [&](std::exception_ptr e) {
    std::lock_guard g(m);
    scratchpad = e;
  }};
  auto res = p.apply_async(callbacks, raising);
  try {
    res.get();
    ADD_FAILURE() << "expected an exception";
  } catch (const mp::RemoteError& e) {
    EXPECT_TRUE(e.is<std::out_of_range>());
  }
  {
    std::lock_guard g(m);
    ASSERT_TRUE(scratchpad);
    try {
      std::rethrow_exception(scratchpad);
    } catch (const mp::RemoteError& e) {
      EXPECT_TRUE(e.is<std::out_of_range>());
    }
  }
  p.close();
  p.join();
}

INSTANTIATE_TEST_SUITE_P(Methods, TestPoolWorkerErrors, mp::testing::kAllStartMethods,
                         mp::testing::start_method_name);

}  // namespace
