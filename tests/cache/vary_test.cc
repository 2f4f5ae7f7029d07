#include "cache/vary.h"

#include <gtest/gtest.h>

namespace ballast::cache {
namespace {

using Headers = std::vector<http::Header>;

TEST(VaryTest, EquivalentRequestsSelectTheSame) {
  Headers a = {{"Accept-Encoding", "gzip, br"}, {"Accept-Language", "en"}};
  Headers b = {{"accept-language", "en"}, {"ACCEPT-ENCODING", "gzip,br"}};
  Headers split = {
      {"Accept-Encoding", "gzip"}, {"Accept-Encoding", " br "}, {"Accept-Language", "en"}};
  auto vary = std::vector<std::string_view>{"Accept-Encoding, accept-language"};
  EXPECT_EQ(vary_selection(vary, a), vary_selection(vary, b));
  EXPECT_EQ(vary_selection(vary, a), vary_selection(vary, split)) << "lines combined";
  EXPECT_EQ(*vary_selection(vary, a), "accept-encoding:gzip,br\naccept-language:en\n");
}

TEST(VaryTest, DifferentValuesOrAbsenceSelectDifferently) {
  auto vary = std::vector<std::string_view>{"Accept-Encoding"};
  EXPECT_NE(vary_selection(vary, {{"Accept-Encoding", "gzip"}}),
            vary_selection(vary, {{"Accept-Encoding", "br"}}));
  EXPECT_NE(vary_selection(vary, {{"Accept-Encoding", "gzip"}}), vary_selection(vary, {}));
  // Order within a value matters (it may carry preference).
  EXPECT_NE(vary_selection(vary, {{"Accept-Encoding", "gzip, br"}}),
            vary_selection(vary, {{"Accept-Encoding", "br, gzip"}}));
  // Fields Vary does not name do not matter.
  EXPECT_EQ(vary_selection(vary, {{"Accept-Encoding", "gzip"}, {"Cookie", "a=1"}}),
            vary_selection(vary, {{"Accept-Encoding", "gzip"}, {"Cookie", "a=2"}}));
}

TEST(VaryTest, StarMatchesNothingAndSeveralVaryLinesCombine) {
  EXPECT_FALSE(vary_selection({"Accept-Encoding, *"}, {}).has_value());
  EXPECT_EQ(vary_selection({"A", "B"}, {{"b", "2"}, {"a", "1"}}),
            vary_selection({"A, B"}, {{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(vary_selection({}, {{"a", "1"}}), "");
}

}  // namespace
}  // namespace ballast::cache
