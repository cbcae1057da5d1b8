// Ported from CPython's Lib/test/_test_multiprocessing.py, class _TestPool
// (CPython 3.11; the test names find them): an input that throws while map or imap
// reads it, under every start method.
//
// One difference by design: CPython's imap drops the results of a short last
// chunk (the items read before the exception in the chunk it was filling);
// multiproc runs those items too, so every item read before the exception
// has its result out before the exception is thrown.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "helpers/start_methods.hpp"
#include "multiproc/pool.hpp"

namespace mp = multiproc;

namespace {

struct SayWhenError : std::runtime_error {
  SayWhenError() : std::runtime_error("Somebody said when") {}
};

// CPython's exception_throwing_generator(total, when): yields 0 .. total-1,
// raising SayWhenError instead of yielding `when` (-1: at once).
class ExceptionThrowingRange {
 public:
  ExceptionThrowingRange(int total, int when) : total_(total), when_(when) {}

  class iterator {
   public:
    using value_type = int;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(int i, int when) : i_(i), when_(when) {}
    int operator*() const {
      if (i_ == when_ || when_ == -1) throw SayWhenError();
      return i_;
    }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    void operator++(int) { ++i_; }
    bool operator==(const iterator& other) const { return i_ == other.i_; }

   private:
    int i_ = 0;
    int when_ = -1;
  };

  iterator begin() const { return {0, when_}; }
  iterator end() const { return {total_, when_}; }

 private:
  int total_;
  int when_;
};
static_assert(std::input_iterator<ExceptionThrowingRange::iterator>);

int sqr(int x) {
  return x * x;
}

class TestPool : public ::testing::TestWithParam<mp::StartMethod> {
 protected:
  mp::Pool pool_{{.processes = 4, .start_method = GetParam()}};

  // The values imap (or imap_unordered) hands out before the exception,
  // and whether the exception was SayWhenError.
  std::vector<int> read_until_thrown(bool ordered, int total, int when, std::size_t chunksize) {
    std::vector<int> got;
    bool thrown = false;
    try {
      ExceptionThrowingRange input(total, when);
      if (ordered) {
        for (int y : pool_.imap(sqr, input, {.chunksize = chunksize})) got.push_back(y);
      } else {
        for (int y : pool_.imap_unordered(sqr, input, {.chunksize = chunksize})) got.push_back(y);
      }
    } catch (const SayWhenError&) {
      thrown = true;
    }
    EXPECT_TRUE(thrown) << "the input's exception was not thrown";
    return got;
  }

  static std::vector<int> squares_below(int n) {
    std::vector<int> v;
    for (int i = 0; i < n; ++i) v.push_back(i * i);
    return v;
  }
};

// _TestPool.test_map_handle_iterable_exception: map reads its
// whole input before submitting, so the exception comes at once.
TEST_P(TestPool, test_map_handle_iterable_exception) {
  EXPECT_THROW(pool_.map(sqr, ExceptionThrowingRange(1, -1), {.chunksize = 1}), SayWhenError);
  EXPECT_THROW(pool_.map(sqr, ExceptionThrowingRange(10, 3), {.chunksize = 1}), SayWhenError);
  // The pool is still usable.
  EXPECT_EQ(pool_.map(sqr, std::vector<int>{1, 2, 3}), (std::vector<int>{1, 4, 9}));
}

// _TestPool.test_imap_handle_iterable_exception.
TEST_P(TestPool, test_imap_handle_iterable_exception) {
  EXPECT_EQ(read_until_thrown(true, 1, -1, 1), squares_below(0));
  EXPECT_EQ(read_until_thrown(true, 10, 3, 1), squares_below(3));
  // CPython yields 6 here and 4 below (it drops the short chunk).
  EXPECT_EQ(read_until_thrown(true, 20, 7, 2), squares_below(7));
  EXPECT_EQ(read_until_thrown(true, 20, 7, 4), squares_below(7));
  EXPECT_EQ(pool_.apply(sqr, 5), 25);
}

// _TestPool.test_imap_unordered_handle_iterable_exception: every
// value (not only the count) before the exception.
TEST_P(TestPool, test_imap_unordered_handle_iterable_exception) {
  EXPECT_EQ(read_until_thrown(false, 1, -1, 1), squares_below(0));
  for (std::size_t chunksize : {1u, 2u, 4u}) {
    std::vector<int> got = read_until_thrown(false, 20, 7, chunksize);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, squares_below(7)) << "chunksize " << chunksize;
  }
  // An endless window: more items than the feed's look-ahead before the throw.
  std::vector<int> got = read_until_thrown(false, 1000, 500, 3);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, squares_below(500));
}

INSTANTIATE_TEST_SUITE_P(Methods, TestPool, mp::testing::kAllStartMethods,
                         mp::testing::start_method_name);

}  // namespace
