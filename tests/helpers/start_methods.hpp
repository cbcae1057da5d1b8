// Runs a test suite once per start method: INSTANTIATE_TEST_SUITE_P(Methods,
// Suite, kAllStartMethods, start_method_name). The test binary's main calls
// init(argc, argv, {.forkserver = true}), so every method is available.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "multiproc/start_method.hpp"

namespace multiproc::testing {

inline const auto kAllStartMethods =
    ::testing::Values(multiproc::StartMethod::fork, multiproc::StartMethod::spawn,
                      multiproc::StartMethod::forkserver);

inline std::string start_method_name(const ::testing::TestParamInfo<multiproc::StartMethod>& info) {
  return std::string(multiproc::to_string(info.param));
}

}  // namespace multiproc::testing
