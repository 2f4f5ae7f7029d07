#include "http/head_scanner.h"

#include <gtest/gtest.h>

#include <string>

namespace ballast::http {
namespace {

TEST(HeadScannerTest, FindsTheEndOfAHeadFedByteByByte) {
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\nBODY";
  HeadScanner s(HeadLimits{});
  for (size_t n = 1; n < head.size() - 4; ++n) {
    EXPECT_EQ(s.scan(std::string_view(head).substr(0, n)), ScanStatus::kNeedMore) << n;
  }
  EXPECT_EQ(s.scan(head), ScanStatus::kComplete);
  EXPECT_EQ(s.head_length(), head.size() - 4);
}

TEST(HeadScannerTest, SkipsALeadingEmptyLine) {
  HeadScanner s(HeadLimits{});
  EXPECT_EQ(s.scan("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), ScanStatus::kComplete);
}

TEST(HeadScannerTest, RejectsBareLineFeedsAndObsFold) {
  HeadScanner a(HeadLimits{});
  EXPECT_EQ(a.scan("GET / HTTP/1.1\nHost: a\r\n\r\n"), ScanStatus::kBareLineFeed);
  HeadScanner b(HeadLimits{});
  EXPECT_EQ(b.scan("GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n"), ScanStatus::kBareLineFeed);
  HeadScanner c(HeadLimits{});
  EXPECT_EQ(c.scan("GET / HTTP/1.1\r\nX: a\r\n b\r\nHost: a\r\n\r\n"), ScanStatus::kObsFold);
  HeadScanner d(HeadLimits{});
  EXPECT_EQ(d.scan("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n"), ScanStatus::kObsFold);
}

TEST(HeadScannerTest, EnforcesTheStartLineLimitBeforeTheLineEnds) {
  HeadLimits limits;
  limits.max_start_line = 64;
  HeadScanner s(limits);
  std::string line = "GET /" + std::string(100, 'a');  // no line end yet
  EXPECT_EQ(s.scan(line), ScanStatus::kStartLineTooLong);

  HeadScanner exact(limits);
  std::string ok = "GET /" + std::string(64 - 14, 'a') + " HTTP/1.1";
  ASSERT_EQ(ok.size(), 64u);
  EXPECT_EQ(exact.scan(ok + "\r\nHost: a\r\n\r\n"), ScanStatus::kComplete);
}

TEST(HeadScannerTest, EnforcesTheHeaderSizeLimit) {
  HeadLimits limits;
  limits.max_header_bytes = 100;
  HeadScanner s(limits);
  std::string head = "GET / HTTP/1.1\r\nX: " + std::string(200, 'v');
  EXPECT_EQ(s.scan(head), ScanStatus::kHeadersTooLarge);

  HeadScanner complete(limits);
  EXPECT_EQ(complete.scan("GET / HTTP/1.1\r\nX: " + std::string(200, 'v') + "\r\n\r\n"),
            ScanStatus::kHeadersTooLarge);
}

TEST(HeadScannerTest, ResetStartsOver) {
  HeadScanner s(HeadLimits{});
  EXPECT_EQ(s.scan("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), ScanStatus::kComplete);
  s.reset();
  EXPECT_EQ(s.scan("GET /x HTTP/1.1\r\n"), ScanStatus::kNeedMore);
}

}  // namespace
}  // namespace ballast::http
