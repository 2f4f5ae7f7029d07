// Failures a user can read: 502, 504, 408, 404 and invalid target responses.
#include <gtest/gtest.h>

#include "support/http_client.h"
#include "support/recording_server.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

TEST(ErrorsTest, UnreachableTargetGives502WithReason) {
  uint16_t nothing_there = free_port();
  Ballast lb(proxy_config({nothing_there}));
  ASSERT_TRUE(lb.ready());
  auto r = http_get(lb.port(), "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  EXPECT_EQ(r->header("content-type"), "text/plain; charset=utf-8");
  EXPECT_NE(r->body.find("502 Bad Gateway"), std::string::npos);
  EXPECT_NE(r->body.find("could not connect to target 127.0.0.1:" + std::to_string(nothing_there)),
            std::string::npos)
      << r->body;
}

TEST(ErrorsTest, SlowTargetGives504AfterRequestTimeout) {
  DemoBackend backend;
  Ballast lb(proxy_config({backend.port()}, "    request_timeout: 300ms\n"));
  ASSERT_TRUE(lb.ready());
  auto slow = http_get(lb.port(), "/sleep?ms=5000");
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->status, 504);
  EXPECT_NE(slow->body.find("did not respond within 300ms"), std::string::npos) << slow->body;
  auto fast = http_get(lb.port(), "/sleep?ms=10");
  ASSERT_TRUE(fast);
  EXPECT_EQ(fast->status, 200);
}

TEST(ErrorsTest, IncompleteHeadGets408AfterHeaderTimeout) {
  DemoBackend backend;
  Ballast lb(proxy_config({backend.port()}, "", "    header_timeout: 300ms\n"));
  ASSERT_TRUE(lb.ready());
  Client c(lb.port());
  ASSERT_TRUE(c.send_raw("GET / HTTP/1.1\r\nHost: x\r\n"));  // never finished
  bool closed = false;
  std::string reply = c.read_until_close(&closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(reply.rfind("HTTP/1.1 408", 0), 0u) << reply;
}

TEST(ErrorsTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  DemoBackend backend;
  Ballast lb(proxy_config({backend.port()}, "", "    idle_timeout: 300ms\n"));
  ASSERT_TRUE(lb.ready());
  Client c(lb.port());
  ASSERT_TRUE(c.send_raw("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.read_response());
  bool closed = false;
  std::string rest = c.read_until_close(&closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(rest, "");
}

TEST(ErrorsTest, InvalidTargetResponseGives502AndTheConnectionIsNotReused) {
  int n = 0;
  RecordingServer target([&n](const std::string&) {
    // First answer is malformed (two different Content-Length values), then valid ones.
    if (n++ == 0)
      return std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok");
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  Ballast lb(proxy_config({target.port()}));
  ASSERT_TRUE(lb.ready());
  auto bad = http_get(lb.port(), "/");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 502);
  EXPECT_NE(bad->body.find("invalid response"), std::string::npos) << bad->body;
  auto good = http_get(lb.port(), "/");
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200);
  EXPECT_EQ(target.connections(), 2u) << "the connection that carried a bad response was reused";
}

TEST(ErrorsTest, TargetClosingWithoutResponseGives502) {
  RecordingServer target([](const std::string&) { return std::string(); });  // just close
  Ballast lb(proxy_config({target.port()}));
  ASSERT_TRUE(lb.ready());
  auto r = http_get(lb.port(), "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  EXPECT_NE(r->body.find("closed the connection"), std::string::npos) << r->body;
}

TEST(ErrorsTest, TruncatedResponseBodyClosesTheClientConnection) {
  // A target that promises 100 bytes and sends 5 before closing.
  RecordingServer liar(
      [](const std::string&) {
        return std::string("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello");
      },
      /*close_after_response=*/true);
  Ballast lb(proxy_config({liar.port()}, "    request_timeout: 2s\n"));
  ASSERT_TRUE(lb.ready());
  Client c(lb.port());
  ASSERT_TRUE(c.send_raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  bool closed = false;
  std::string got = c.read_until_close(&closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(got.find("Content-Length: 100"), std::string::npos);
  EXPECT_LT(got.size() - got.find("\r\n\r\n") - 4, 100u);
}

}  // namespace
}  // namespace ballast::test
