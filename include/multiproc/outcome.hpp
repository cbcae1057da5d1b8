// multiproc/outcome.hpp — one item's outcome in Pool::map_outcomes.
//
//   auto outcomes = pool.map_outcomes(parse, files);
//   for (const auto& o : outcomes)
//     if (!o.ok()) std::cerr << o.describe() << '\n';   // names the failed item's index
//
// A value type: copy it, keep it, read it from any thread.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <exception>
#include <optional>
#include <string>
#include <utility>

namespace multiproc {

// One item's outcome in map_outcomes: its value, or the error that ended
// its task (RemoteError, WorkerLost, TaskTimeoutError, CancelledError, ...).
template <class R>
class Outcome {
 public:
  explicit Outcome(R value) : value_(std::move(value)) {}
  explicit Outcome(std::exception_ptr error) : error_(std::move(error)) {}

  bool ok() const noexcept { return !error_; }
  // The value; rethrows the error of a failed item.
  const R& value() const {
    if (error_) std::rethrow_exception(error_);
    return *value_;
  }
  const std::exception_ptr& error() const noexcept { return error_; }
  // The error's what(), or "" for a value.
  std::string describe() const {
    if (!error_) return {};
    try {
      std::rethrow_exception(error_);
    } catch (const std::exception& e) {
      return e.what();
    } catch (...) {
      return "unknown error";
    }
  }

 private:
  std::optional<R> value_;
  std::exception_ptr error_;
};

}  // namespace multiproc
