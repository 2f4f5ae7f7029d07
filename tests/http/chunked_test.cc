#include "http/chunked.h"

#include <gtest/gtest.h>

#include <string>

namespace ballast::http {
namespace {

TEST(ChunkedTest, AppendChunkWritesTheSizeInHex) {
  std::string out;
  append_chunk(out, "hello", 5);
  std::string big(300, 'x');
  append_chunk(out, big.data(), big.size());
  EXPECT_EQ(out, "5\r\nhello\r\n12c\r\n" + big + "\r\n");
}

// Feeds `wire` to a decoder `step` bytes at a time; the data it gave, and its last status.
std::pair<std::string, ChunkedDecoder::Status> decode(std::string_view wire, size_t step) {
  ChunkedDecoder decoder;
  std::string data;
  auto status = ChunkedDecoder::Status::kMore;
  for (size_t at = 0; at < wire.size(); at += step) {
    status =
        decoder.feed(wire.substr(at, step), [&](const char* p, size_t n) { data.append(p, n); });
  }
  return {data, status};
}

TEST(ChunkedTest, TheDecoderUndoesTheFramingWhateverThePieces) {
  std::string wire;
  append_chunk(wire, "hello ", 6);
  std::string big(70000, 'y');
  append_chunk(wire, big.data(), big.size());
  wire += kLastChunk;
  for (size_t step : {size_t{1}, size_t{2}, size_t{7}, wire.size()}) {
    auto [data, status] = decode(wire, step);
    EXPECT_EQ(data, "hello " + big) << "step " << step;
    EXPECT_EQ(status, ChunkedDecoder::Status::kDone) << "step " << step;
  }
}

TEST(ChunkedTest, AnIncompleteBodyAsksForMore) {
  auto [data, status] = decode("5\r\nhel", 100);
  EXPECT_EQ(data, "hel");
  EXPECT_EQ(status, ChunkedDecoder::Status::kMore);
  EXPECT_EQ(decode("5\r\nhello\r\n0\r\n", 100).second, ChunkedDecoder::Status::kMore);
}

TEST(ChunkedTest, AnythingButPlainFramingIsAnError) {
  for (std::string_view wire : {"x\r\n", "5;ext=1\r\nhello\r\n", "5\nhello\r\n", "5\r\nhelloXX",
                                "\r\n", "0\r\nTrailer: x\r\n\r\n", "12345678901234567\r\n"}) {
    EXPECT_EQ(decode(wire, 100).second, ChunkedDecoder::Status::kError) << wire;
  }
}

}  // namespace
}  // namespace ballast::http
