// A range of ints without a size, for the pool tests (multiproc/range.hpp
// has the sized and the endless ones).
#pragma once

#include "multiproc/range.hpp"

namespace multiproc::testing {

// first, first + 1, ..., last - 1, with no size(): the Pool must count it.
class UnsizedCounting {
 public:
  UnsizedCounting(int first, int last) : first_(first), last_(last) {}
  CountingIterator<int> begin() const { return {first_}; }
  CountingIterator<int> end() const { return {last_}; }

 private:
  int first_, last_;
};

inline UnsizedCounting count_unsized(int first, int last) {
  return {first, last};
}

}  // namespace multiproc::testing
