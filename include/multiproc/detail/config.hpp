// Internal: what the compiler must provide, checked first by every public
// header, so that a compiler in an older language mode reads one line that
// says the fix instead of pages of errors about concepts and std::span.
#pragma once

#if !defined(__cplusplus) || __cplusplus < 202002L
#error \
    "multiproc: needs C++20. Compile with -std=c++20 (g++ >= 12, clang >= 14), or in CMake link multiproc::multiproc, which requires cxx_std_20"
// Stops the compiler here (a missing include is fatal): the rest of the
// library would only add errors about C++20 features.
#include "multiproc: compile with -std=c++20"
#endif
