#include "compress/encoder.h"

#include <gtest/gtest.h>

#include <string>

#include "support/content_decoding.h"

namespace ballast::compress {
namespace {

std::string decode(Coding c, const std::string& in) {
  return test::decode_content(std::string(coding_name(c)), in);
}

class EncoderTest : public ::testing::TestWithParam<Coding> {};

TEST_P(EncoderTest, PiecesWrittenComeBackWholeAndSmaller) {
  std::string text;
  for (int i = 0; text.size() < 300000; ++i)
    text += "<li class=\"item\">row " + std::to_string(i) + " of the table</li>\n";
  auto encoder = make_encoder(GetParam());
  std::string out;
  for (size_t at = 0; at < text.size(); at += 7000) {
    ASSERT_TRUE(encoder->write(std::string_view(text).substr(at, 7000), out));
  }
  ASSERT_TRUE(encoder->finish(out));
  EXPECT_LT(out.size(), text.size() / 4);
  EXPECT_TRUE(decode(GetParam(), out) == text);
}

TEST_P(EncoderTest, EachWriteIsFlushedSoATrickleIsNotHeldBack) {
  auto encoder = make_encoder(GetParam());
  std::string out;
  ASSERT_TRUE(encoder->write("data: first event\n\n", out));
  EXPECT_FALSE(out.empty()) << "the first piece is out before the second comes";
  ASSERT_TRUE(encoder->finish(out));
  EXPECT_EQ(decode(GetParam(), out), "data: first event\n\n");
}

TEST_P(EncoderTest, AnEmptyBodyIsAValidStream) {
  auto encoder = make_encoder(GetParam());
  std::string out;
  ASSERT_TRUE(encoder->finish(out));
  EXPECT_EQ(decode(GetParam(), out), "");
}

INSTANTIATE_TEST_SUITE_P(Codings, EncoderTest,
                         ::testing::Values(Coding::kGzip, Coding::kBrotli, Coding::kZstd),
                         [](const auto& p) { return std::string(coding_name(p.param)); });

}  // namespace
}  // namespace ballast::compress
