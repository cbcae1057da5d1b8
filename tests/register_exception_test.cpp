// Pool task exceptions that keep their type (register_exception.hpp), and
// RemoteError::is<T>() for those that do not, under every start method.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "helpers/start_methods.hpp"
#include "multiproc/pool.hpp"
#include "multiproc/register_exception.hpp"

namespace mp = multiproc;

namespace {

// Registered, with a field beyond its message.
struct ParseError : std::runtime_error {
  ParseError() : std::runtime_error("") {}
  ParseError(const std::string& message, int at_line)
      : std::runtime_error(message), line(at_line) {}
  explicit ParseError(const std::string& message) : std::runtime_error(message) {}
  int line = 0;
  template <class A>
  void serialize(A& ar) {
    ar(line);
  }
};

// Registered, its message only (no serialize function).
struct QuotaExceeded : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Registered, with neither a constructor from a message nor fields.
struct Unavailable : std::exception {
  const char* what() const noexcept override { return "unavailable"; }
};

// Not registered; derives from a registered type.
struct DeepParseError : ParseError {
  using ParseError::ParseError;
};

// Not registered.
struct Unregistered : std::logic_error {
  using std::logic_error::logic_error;
};

// At namespace scope, as the docs suggest. QuotaExceeded and Unavailable are
// registered inside a test body that children never run: registration
// belongs to the program, so spawned and forkserver workers know them too.
const bool parse_error_registered = mp::register_exception<ParseError>();

int parse(int line) {
  if (line == 7) throw ParseError("bad token", line);
  return line;
}
int over_quota(int) {
  throw QuotaExceeded("quota of 3 GiB exceeded");
}
int unavailable(int) {
  throw Unavailable();
}
int deep(int) {
  throw DeepParseError("deeper", 9);
}
int unregistered(int x) {
  if (x == 2) throw Unregistered("not registered");
  return x;
}

class RegisterException : public ::testing::TestWithParam<mp::StartMethod> {
 protected:
  mp::Pool pool_{{.processes = 2, .start_method = GetParam()}};
};

TEST_P(RegisterException, ARegisteredTypeIsThrownAsItselfWithItsFields) {
  ASSERT_TRUE(parse_error_registered);
  try {
    pool_.apply(parse, 7);
    FAIL() << "no exception";
  } catch (const ParseError& e) {
    EXPECT_STREQ(e.what(), "bad token");
    EXPECT_EQ(e.line, 7);
  }
  // map: the failing item's exception, as itself.
  try {
    (void)pool_.map(parse, std::vector<int>{1, 2, 7, 8}, {.chunksize = 1});
    FAIL() << "no exception";
  } catch (const ParseError& e) {
    EXPECT_EQ(e.line, 7);
  }
  // async, and the pool goes on.
  auto r = pool_.apply_async(parse, 7);
  EXPECT_THROW(r.get(), ParseError);
  EXPECT_EQ(pool_.apply(parse, 3), 3);
}

TEST_P(RegisterException, RegistrationInsideAFunctionCoversEveryProcessOfTheProgram) {
  ASSERT_TRUE(mp::register_exception<QuotaExceeded>());
  ASSERT_TRUE(mp::register_exception<Unavailable>());
  try {
    pool_.apply(over_quota, 0);
    FAIL() << "no exception";
  } catch (const QuotaExceeded& e) {
    EXPECT_STREQ(e.what(), "quota of 3 GiB exceeded");
  }
  try {
    pool_.apply(unavailable, 0);
    FAIL() << "no exception";
  } catch (const Unavailable& e) {
    EXPECT_STREQ(e.what(), "unavailable");
  }
}

TEST_P(RegisterException, AnUnregisteredTypeIsARemoteErrorThatKnowsItsType) {
  try {
    (void)pool_.map(unregistered, std::vector<int>{0, 1, 2, 3}, {.chunksize = 1});
    FAIL() << "no exception";
  } catch (const mp::RemoteError& e) {
    EXPECT_TRUE(e.is<Unregistered>());
    EXPECT_FALSE(e.is<std::logic_error>());  // exact type, not a base
    EXPECT_FALSE(e.is<ParseError>());
    EXPECT_EQ(e.item(), 2u);
    EXPECT_EQ(e.info().message, "not registered");
  }
}

TEST_P(RegisterException, ADerivedTypeOfARegisteredOneStaysARemoteError) {
  try {
    pool_.apply(deep, 0);
    FAIL() << "no exception";
  } catch (const ParseError&) {
    FAIL() << "a derived type crossed as its registered base";
  } catch (const mp::RemoteError& e) {
    EXPECT_TRUE(e.is<DeepParseError>());
    EXPECT_EQ(e.info().message, "deeper");
  }
}

INSTANTIATE_TEST_SUITE_P(Methods, RegisterException, mp::testing::kAllStartMethods,
                         mp::testing::start_method_name);

TEST(RegisterExceptionInfo, IsComparesTheExactDemangledType) {
  mp::ExceptionInfo info{"std::out_of_range", "index 3", 42};
  EXPECT_TRUE(info.is<std::out_of_range>());
  EXPECT_FALSE(info.is<std::logic_error>());
  EXPECT_TRUE((mp::ExceptionInfo{"(anonymous namespace)::ParseError", "", 1}.is<ParseError>()));
}

}  // namespace
