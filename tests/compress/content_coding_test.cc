#include "compress/content_coding.h"

#include <gtest/gtest.h>

#include <vector>

namespace ballast::compress {
namespace {

const std::vector<Coding> kAll = {Coding::kBrotli, Coding::kZstd, Coding::kGzip};

std::string chosen(std::string_view accept, const std::vector<Coding>& offered = kAll) {
  auto c = choose_coding(accept, offered);
  return c ? std::string(coding_name(*c)) : "identity";
}

TEST(ContentCodingTest, TheHighestQValueWinsAndTiesGoToOurOrder) {
  EXPECT_EQ(chosen("gzip, deflate, br, zstd"), "br");
  EXPECT_EQ(chosen("gzip, deflate, br, zstd", {Coding::kGzip, Coding::kBrotli}), "gzip");
  EXPECT_EQ(chosen("gzip;q=1.0, br;q=0.5"), "gzip");
  EXPECT_EQ(chosen("br;q=0.2, zstd;q=0.9, gzip;q=0.9"), "zstd");
  EXPECT_EQ(chosen("GZIP"), "gzip") << "codings compare without case";
  EXPECT_EQ(chosen("x-gzip"), "gzip");
  EXPECT_EQ(chosen(" gzip ; q=0.5 ,deflate"), "gzip");
}

TEST(ContentCodingTest, WildcardsRefusalsAndNothing) {
  EXPECT_EQ(chosen("*"), "br");
  EXPECT_EQ(chosen("*;q=0.5, br;q=0"), "zstd") << "br refused, the others by the wildcard";
  EXPECT_EQ(chosen("br;q=0, zstd;q=0, gzip;q=0"), "identity");
  EXPECT_EQ(chosen("identity"), "identity");
  EXPECT_EQ(chosen(""), "identity") << "no Accept-Encoding: identity";
  EXPECT_EQ(chosen("deflate, compress"), "identity");
  EXPECT_EQ(chosen("gzip;q=2"), "identity") << "a malformed q-value counts as a refusal";
  EXPECT_EQ(chosen("gzip;q=0.0001"), "identity");
}

}  // namespace
}  // namespace ballast::compress
