// `ballast backend`: the demo application instance that the quickstart and tests use.
#include <gtest/gtest.h>

#include "support/http_client.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

class BackendTest : public ::testing::Test {
 protected:
  DemoBackend backend_{"web-1"};
};

TEST_F(BackendTest, HealthAndInstanceHeader) {
  auto r = http_get(backend_.port(), "/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok\n");
  EXPECT_EQ(r->header("x-ballast-instance"), "web-1");
}

TEST(BackendDefaultIdTest, InstanceIdDefaultsToThePort) {
  DemoBackend plain;
  auto r = http_get(plain.port(), "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("x-ballast-instance"), std::to_string(plain.port()));
}

TEST_F(BackendTest, HealthSwitch) {
  Client c(backend_.port());
  ASSERT_TRUE(
      c.send_raw("POST /control/health?ok=false HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  auto off = c.read_response();
  ASSERT_TRUE(off);
  EXPECT_EQ(off->status, 200);
  auto failing = c.get("/health");
  ASSERT_TRUE(failing);
  EXPECT_EQ(failing->status, 503);
  ASSERT_TRUE(
      c.send_raw("POST /control/health?ok=true HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  ASSERT_TRUE(c.read_response());
  auto back = c.get("/health");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, 200);
  // A GET cannot flip the switch.
  auto wrong = http_get(backend_.port(), "/control/health?ok=false");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 400);
}

TEST_F(BackendTest, StatusWorkSleep) {
  auto s = http_get(backend_.port(), "/status/418");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->status, 418);
  auto nc = http_get(backend_.port(), "/status/204");
  ASSERT_TRUE(nc);
  EXPECT_EQ(nc->status, 204);
  EXPECT_EQ(nc->body, "");
  auto w = http_get(backend_.port(), "/work?cpu_ms=5");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->body, "worked 5ms\n");
  auto z = http_get(backend_.port(), "/sleep?ms=50");
  ASSERT_TRUE(z);
  EXPECT_EQ(z->body, "slept 50ms\n");
  auto b = http_get(backend_.port(), "/block?ms=30");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->body, "blocked 30ms\n");
  auto missing = http_get(backend_.port(), "/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(BackendTest, BytesInEveryFraming) {
  auto len = http_get(backend_.port(), "/bytes/100000");
  ASSERT_TRUE(len);
  EXPECT_EQ(len->header("content-length"), "100000");
  EXPECT_EQ(len->body.size(), 100000u);
  auto chunked = http_get(backend_.port(), "/bytes/70000?mode=chunked");
  ASSERT_TRUE(chunked);
  EXPECT_EQ(chunked->header("transfer-encoding"), "chunked");
  EXPECT_EQ(chunked->body.size(), 70000u);
  Client c(backend_.port());
  auto close = c.get("/bytes/5000?mode=close");
  ASSERT_TRUE(close);
  EXPECT_EQ(close->body.size(), 5000u);
}

TEST_F(BackendTest, EchoShowsRequestLineHeadersAndBody) {
  Client c(backend_.port());
  ASSERT_TRUE(c.send_raw(
      "POST /echo?x=1 HTTP/1.1\r\nHost: h\r\nX-Custom: v\r\nContent-Length: 4\r\n\r\nabcd"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "POST /echo?x=1 HTTP/1.1\nHost: h\nX-Custom: v\nContent-Length: 4\n\nabcd");
}

TEST_F(BackendTest, RejectsMalformedRequests) {
  Client c(backend_.port());
  ASSERT_TRUE(c.send_raw("GET / HTTP/1.1\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
}

}  // namespace
}  // namespace ballast::test
