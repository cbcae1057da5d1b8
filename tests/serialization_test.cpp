// Serialization: the three paths, type tags, and hostile bytes.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "multiproc/serialization.hpp"

namespace mp = multiproc;

namespace {

struct Point {
  double x, y;
  friend bool operator==(const Point&, const Point&) = default;
};

struct Job {
  std::string name;
  std::vector<int> ids;
  std::optional<std::map<std::string, double>> weights;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(name, ids, weights);
  }
  friend bool operator==(const Job&, const Job&) = default;
};

template <class T>
T round_trip(const T& value) {
  mp::Encoded<T> encoded(value);
  mp::check_tag<T>(encoded.tag());
  return mp::decode<T>(encoded.bytes());
}

}  // namespace

TEST(Serialization, TriviallyCopyableValuesAreTheirBytes) {
  Point p{1.5, -2.0};
  mp::Encoded<Point> e(p);
  EXPECT_EQ(e.bytes().size(), sizeof(Point));
  EXPECT_EQ(static_cast<const void*>(e.bytes().data()), static_cast<const void*>(&p));  // no copy
  EXPECT_EQ(round_trip(p), p);
  EXPECT_EQ(round_trip(42), 42);
  EXPECT_EQ((round_trip(std::array<int, 3>{1, 2, 3})), (std::array<int, 3>{1, 2, 3}));
}

TEST(Serialization, ContiguousRangesAreTheirElementsBytes) {
  std::string s(1000, 'q');
  mp::Encoded<std::string> e(s);
  EXPECT_EQ(e.bytes().size(), 1000u);
  EXPECT_EQ(static_cast<const void*>(e.bytes().data()), static_cast<const void*>(s.data()));
  EXPECT_EQ(round_trip(s), s);
  std::vector<double> v{1, 2, 3.5};
  EXPECT_EQ(round_trip(v), v);
  EXPECT_EQ(round_trip(std::string()), "");
}

TEST(Serialization, GeneralTypesGoThroughCereal) {
  Job job{"render", {1, 2, 3}, std::map<std::string, double>{{"a", 0.5}}};
  EXPECT_EQ(round_trip(job), job);
  using Mixed =
      std::tuple<int, std::string, std::variant<int, std::string>, std::vector<std::string>>;
  Mixed m{7, "seven", std::string("VII"), {"a", "b"}};
  EXPECT_EQ(round_trip(m), m);
  mp::ExceptionInfo info{"std::runtime_error", "boom", 1234};
  EXPECT_EQ(round_trip(info), info);
}

TEST(Serialization, ReceivingAsAnotherTypeIsADecodeError) {
  mp::Encoded<int> e(5);
  EXPECT_THROW(mp::check_tag<long>(e.tag()), mp::DecodeError);
  EXPECT_THROW(mp::check_tag<int>(0), mp::DecodeError);        // raw bytes
  EXPECT_THROW(mp::decode<long>(e.bytes()), mp::DecodeError);  // 4 bytes cannot be a long
  std::vector<std::byte> odd(7);
  EXPECT_THROW(mp::decode<std::vector<int>>(odd), mp::DecodeError);
}

TEST(Serialization, HostileContainerSizeIsRefusedBeforeAllocating) {
  // A cereal vector<string> whose size prefix claims 2^60 elements.
  std::vector<std::byte> bytes(8 + 4);
  std::uint64_t huge = 1ull << 60;
  std::memcpy(bytes.data(), &huge, 8);
  try {
    mp::decode<std::vector<std::string>>(bytes);
    ADD_FAILURE() << "no error";
  } catch (const mp::DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find("claims"), std::string::npos) << e.what();
  }
}

TEST(Serialization, InvalidBoolByteIsADecodeError) {
  // Found by the fuzzer: std::optional's flag with the value 2.
  std::vector<std::byte> bytes{std::byte{2}, std::byte{0}, std::byte{0}, std::byte{0},
                               std::byte{0}};
  EXPECT_THROW(mp::decode<std::optional<int>>(bytes), mp::DecodeError);
}

TEST(Serialization, TruncatedAndTrailingBytesAreDecodeErrors) {
  Job job{"x", {1, 2}, std::nullopt};
  mp::Encoded<Job> e(job);
  auto bytes = e.bytes();
  EXPECT_THROW(mp::decode<Job>(bytes.first(bytes.size() - 1)), mp::DecodeError);
  std::vector<std::byte> longer(bytes.begin(), bytes.end());
  longer.push_back(std::byte{0});
  EXPECT_THROW(mp::decode<Job>(longer), mp::DecodeError);
}

TEST(Serialization, TagsDifferBetweenTypesAndAreStable) {
  EXPECT_NE(mp::Encoded<int>::tag(), mp::Encoded<long>::tag());
  EXPECT_NE(mp::Encoded<std::string>::tag(), mp::Encoded<std::vector<char>>::tag());
  EXPECT_EQ(mp::Encoded<Job>::tag(), mp::Encoded<Job>::tag());
  EXPECT_NE(mp::Encoded<int>::tag(), 0u);
}
