// Bodies stream in both directions with backpressure; memory stays bounded.
#include <gtest/gtest.h>

#include <thread>

#include "support/http_client.h"
#include "support/recording_server.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

constexpr uint64_t kGiB = 1ull << 30;
// The bound on ballast's peak memory. A sanitizer's shadow memory and quarantine cost
// hundreds of MiB by themselves; the bound then still catches a body held whole (1 GiB).
long max_rss() {
  return ballast_is_instrumented() ? 512l << 20 : 64l << 20;
}

TEST(StreamingTest, OneGibDownloadWithBoundedMemory) {
  DemoBackend backend;
  Ballast lb(proxy_config({backend.port()}, "    request_timeout: 120s\n"));
  ASSERT_TRUE(lb.ready());
  Client c(lb.port(), 60000);
  ASSERT_TRUE(c.send_raw("GET /bytes/" + std::to_string(kGiB) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read_response(/*keep_body=*/false);
  ASSERT_TRUE(r) << lb.process().log();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body_length, kGiB);
  long rss = peak_rss_bytes(lb.process().pid());
  EXPECT_GT(rss, 0);
  EXPECT_LT(rss, max_rss()) << "peak RSS " << (rss >> 20) << " MiB";
}

TEST(StreamingTest, OneGibUploadWithBoundedMemory) {
  DemoBackend backend;
  Ballast lb(proxy_config({backend.port()}, "    request_timeout: 120s\n"));
  ASSERT_TRUE(lb.ready());
  Client c(lb.port(), 60000);
  ASSERT_TRUE(c.send_raw(
      "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(kGiB) + "\r\n\r\n"));
  ASSERT_TRUE(c.send_zeros(kGiB));
  auto r = c.read_response();
  ASSERT_TRUE(r) << lb.process().log();
  EXPECT_EQ(r->body, "received " + std::to_string(kGiB) + " bytes\n");
  long rss = peak_rss_bytes(lb.process().pid());
  EXPECT_LT(rss, max_rss()) << "peak RSS " << (rss >> 20) << " MiB";
}

TEST(StreamingTest, SlowReaderDoesNotMakeTheProxyBuffer) {
  // The client reads nothing for a while: the proxy must stop reading from the target
  // rather than buffer the response.
  DemoBackend backend;
  Ballast lb(proxy_config({backend.port()}, "    request_timeout: 120s\n"));
  ASSERT_TRUE(lb.ready());
  Client c(lb.port(), 60000);
  ASSERT_TRUE(
      c.send_raw("GET /bytes/" + std::to_string(256ull << 20) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  long rss = peak_rss_bytes(lb.process().pid());
  EXPECT_LT(rss, max_rss()) << "peak RSS " << (rss >> 20)
                            << " MiB while the client was not reading";
  auto r = c.read_response(false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body_length, 256ull << 20);
}

TEST(StreamingTest, ChunkedRequestBodyIsStreamedAndReframed) {
  DemoBackend backend;
  Ballast lb(proxy_config({backend.port()}));
  ASSERT_TRUE(lb.ready());
  Client c(lb.port());
  ASSERT_TRUE(
      c.send_raw("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "5\r\nhello\r\n"
                 "0006;ext=1\r\n world\r\n"
                 "0\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "received 11 bytes\n");
}

TEST(StreamingTest, ChunkedAndUntilCloseResponsesReachHttp11ClientsChunked) {
  DemoBackend backend;
  Ballast lb(proxy_config({backend.port()}));
  ASSERT_TRUE(lb.ready());
  Client c(lb.port());
  auto chunked = c.get("/bytes/300000?mode=chunked");
  ASSERT_TRUE(chunked);
  EXPECT_EQ(chunked->header("transfer-encoding"), "chunked");
  EXPECT_EQ(chunked->body.size(), 300000u);
  // A response that runs until the target closes becomes chunked, so the client
  // connection survives it.
  auto until_close = c.get("/bytes/300000?mode=close");
  ASSERT_TRUE(until_close);
  EXPECT_EQ(until_close->header("transfer-encoding"), "chunked");
  EXPECT_EQ(until_close->body.size(), 300000u);
  auto after = c.get("/health");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, "ok\n");
}

TEST(StreamingTest, ExpectContinueIsRelayed) {
  RecordingServer target([](const std::string& head) {
    if (head.find("Expect: 100-continue") != std::string::npos) {
      return std::string(
          "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone");
    }
    return std::string("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
  });
  Ballast lb(proxy_config({target.port()}));
  ASSERT_TRUE(lb.ready());
  Client c(lb.port());
  ASSERT_TRUE(c.send_raw(
      "POST /u HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc"));
  auto r = c.read_response();  // skips the relayed 100, reads the final response
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "done");
}

}  // namespace
}  // namespace ballast::test
