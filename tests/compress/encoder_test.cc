#include "compress/encoder.h"

#include <brotli/decode.h>
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <string>

namespace ballast::compress {
namespace {

std::string gunzip(const std::string& in) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  std::string out(1 << 22, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int r = inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return r == Z_STREAM_END ? out : "<not a complete gzip stream>";
}

std::string unbrotli(const std::string& in) {
  std::string out(1 << 22, '\0');
  size_t size = out.size();
  if (BrotliDecoderDecompress(in.size(), reinterpret_cast<const uint8_t*>(in.data()), &size,
                              reinterpret_cast<uint8_t*>(out.data())) !=
      BROTLI_DECODER_RESULT_SUCCESS)
    return "<not a complete brotli stream>";
  out.resize(size);
  return out;
}

std::string unzstd(const std::string& in) {
  std::string out(1 << 22, '\0');
  size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n)) return "<not a complete zstd frame>";
  out.resize(n);
  return out;
}

std::string decode(Coding c, const std::string& in) {
  switch (c) {
    case Coding::kGzip:
      return gunzip(in);
    case Coding::kBrotli:
      return unbrotli(in);
    case Coding::kZstd:
      return unzstd(in);
  }
  return {};
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
