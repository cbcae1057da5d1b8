// multiproc/range.hpp — Python's range() for the Pool's inputs.
//
//   pool.map(square, mp::range(0, 1000));          // 0, 1, ..., 999 (sized)
//   pool.map(square, mp::range(10));               // 0, 1, ..., 9
//   for (int y : pool.imap(square, mp::range_from(0))) { ... }   // endless
//
// std::views::iota does the same with g++, but clang 14 cannot compile
// libstdc++ 12's iota_view (a compiler bug); these work with both. Any other
// input range works with the Pool as well.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <concepts>
#include <cstddef>
#include <iterator>

namespace multiproc {

template <std::integral T>
struct CountingIterator {
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  T value{};
  T operator*() const { return value; }
  CountingIterator& operator++() {
    ++value;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator before = *this;
    ++value;
    return before;
  }
  bool operator==(const CountingIterator&) const = default;
};

// first, first + 1, ..., last - 1 (empty when last <= first): a sized range.
template <std::integral T>
class Range {
 public:
  Range(T first, T last) : first_(first), last_(last < first ? first : last) {}
  CountingIterator<T> begin() const { return {first_}; }
  CountingIterator<T> end() const { return {last_}; }
  std::size_t size() const { return static_cast<std::size_t>(last_ - first_); }

 private:
  T first_, last_;
};

// first, first + 1, ... without end (for imap / imap_unordered).
template <std::integral T>
class RangeFrom {
 public:
  explicit RangeFrom(T first) : first_(first) {}
  CountingIterator<T> begin() const { return {first_}; }
  std::unreachable_sentinel_t end() const { return {}; }

 private:
  T first_;
};

template <std::integral T>
Range<T> range(T first, T last) {
  return Range<T>(first, last);
}
// range(n): 0, 1, ..., n-1, as Python's range(n).
template <std::integral T>
Range<T> range(T count) {
  return Range<T>(T{0}, count);
}
template <std::integral T>
RangeFrom<T> range_from(T first) {
  return RangeFrom<T>(first);
}

}  // namespace multiproc
