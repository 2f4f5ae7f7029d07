// Hostile and malformed requests: each gets a clear 4xx and a closed connection, and not
// one byte reaches the target (the recording server sees everything it is sent).
#include <gtest/gtest.h>

#include "support/http_client.h"
#include "support/recording_server.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

using namespace std::string_literals;

struct Case {
  const char* name;
  std::string request;
  int status;
};

std::string many_headers(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "X-H" + std::to_string(i) + ": v\r\n";
  return s;
}

const std::string kPost = "POST / HTTP/1.1\r\nHost: x\r\n";

std::vector<Case> cases() {
  return {
      {"ContentLengthAndTransferEncoding",
       kPost + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"TransferEncodingThenContentLength",
       kPost + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400},
      {"DuplicateContentLengthSameValue",
       kPost + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400},
      {"DuplicateContentLengthDifferent",
       kPost + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400},
      {"ContentLengthList", kPost + "Content-Length: 5, 5\r\n\r\nhello", 400},
      {"ContentLengthNotANumber", kPost + "Content-Length: 5a\r\n\r\nhello", 400},
      {"ContentLengthNegative", kPost + "Content-Length: -1\r\n\r\n", 400},
      {"ContentLengthOverflow", kPost + "Content-Length: 99999999999999999999999\r\n\r\n", 400},
      {"TransferEncodingNotEndingInChunked",
       kPost + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400},
      {"TransferEncodingGzipOnly", kPost + "Transfer-Encoding: gzip\r\n\r\nabc", 400},
      {"TransferEncodingLookalike", kPost + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400},
      {"TransferEncodingTwice",
       kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", 400},
      {"ObsFold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  continued\r\n\r\n", 400},
      {"ObsFoldTab", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\tcontinued\r\n\r\n", 400},
      {"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
      {"SpaceBeforeColonContentLength", kPost + "Content-Length : 5\r\n\r\nhello", 400},
      {"TabBeforeColon", "GET / HTTP/1.1\r\nHost: x\r\nX-A\t: 1\r\n\r\n", 400},
      {"CarriageReturnInValue", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400},
      {"LineFeedInValue", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\nX-B: b\r\n\r\n", 400},
      {"NulInValue", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n"s, 400},
      {"BadByteInName", "GET / HTTP/1.1\r\nHost: x\r\nX(A): 1\r\n\r\n", 400},
      {"SpaceInName", "GET / HTTP/1.1\r\nHost: x\r\nX A: 1\r\n\r\n", 400},
      {"HighByteInName", "GET / HTTP/1.1\r\nHost: x\r\nX\xc3\xa9: 1\r\n\r\n", 400},
      {"MissingHost", "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n", 400},
      {"TwoHosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"InvalidChunkSize", kPost + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
       400},
      {"ChunkSizeOverflow",
       kPost + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nhello\r\n0\r\n\r\n", 400},
      {"ChunkSizeNegative", kPost + "Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
       400},
      {"BareLineFeedLineEndings", "GET / HTTP/1.1\nHost: x\n\n", 400},
      {"RequestLineTooLong", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n",
       414},
      {"HeadersTooLarge",
       "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(33 * 1024, 'b') + "\r\n\r\n", 431},
      {"TooManyHeaders", "GET / HTTP/1.1\r\nHost: x\r\n" + many_headers(101) + "\r\n", 431},
      {"InvalidMethod", "G@T / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"InvalidVersion", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", 505},
      {"Connect", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405},
      {"SpaceInTarget", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400},
  };
}

class SmugglingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    target_ = new RecordingServer();
    lb_ = new Ballast(proxy_config({target_->port()}));
  }
  static void TearDownTestSuite() {
    delete lb_;
    delete target_;
  }
  static RecordingServer* target_;
  static Ballast* lb_;
};
RecordingServer* SmugglingTest::target_ = nullptr;
Ballast* SmugglingTest::lb_ = nullptr;

TEST_F(SmugglingTest, EveryMalformedRequestIsRejectedAndNeverForwarded) {
  ASSERT_TRUE(lb_->ready()) << lb_->process().log();
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    Client client(lb_->port(), 5000);
    ASSERT_TRUE(client.connected());
    client.send_raw(c.request);
    bool closed = false;
    std::string reply = client.read_until_close(&closed);
    EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 " + std::to_string(c.status)) << reply;
    EXPECT_NE(reply.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(closed) << "connection left open";
    EXPECT_EQ(target_->received(), "") << "forwarded to the target";
  }
  // The same proxy does forward a well-formed request: the recorder works.
  auto ok = http_get(lb_->port(), "/fine");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_NE(target_->received().find("GET /fine HTTP/1.1"), std::string::npos);
}

TEST_F(SmugglingTest, ErrorBodySaysWhatWasWrong) {
  ASSERT_TRUE(lb_->ready());
  Client client(lb_->port(), 5000);
  client.send_raw(kPost + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  bool closed = false;
  std::string reply = client.read_until_close(&closed);
  size_t body = reply.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos) << reply;
  EXPECT_NE(reply.find("400 Bad Request: ", body), std::string::npos) << reply;
  EXPECT_NE(reply.find("Content-Length", body), std::string::npos) << reply;
  EXPECT_NE(reply.find("Transfer-Encoding", body), std::string::npos) << reply;
}

TEST_F(SmugglingTest, SmuggledSecondRequestInBodyIsJustBody) {
  // A body that looks like a request is data, forwarded as data, never a second request.
  ASSERT_TRUE(lb_->ready());
  size_t before = target_->requests();
  std::string inner = "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n";
  Client client(lb_->port(), 5000);
  client.send_raw(kPost + "Content-Length: " + std::to_string(inner.size()) + "\r\n\r\n" + inner);
  auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(target_->requests(), before + 1);
}

TEST(HeadLimitsTest, ConfiguredLimitsApply) {
  RecordingServer target;
  Ballast lb(
      proxy_config({target.port()}, "",
                   "    max_request_line: 1KiB\n    max_header_size: 2KiB\n    max_headers: 5\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  struct Probe {
    std::string request;
    int status;
  };
  const std::string ok_headers = "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n";  // with Host: 5 fields
  for (const Probe& p : {
           Probe{"GET /" + std::string(1100, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
           Probe{"GET / HTTP/1.1\r\nHost: x\r\nBig: " + std::string(2100, 'b') + "\r\n\r\n", 431},
           Probe{"GET / HTTP/1.1\r\nHost: x\r\n" + ok_headers + "E: 5\r\n\r\n", 431},
           Probe{"GET /" + std::string(900, 'a') + " HTTP/1.1\r\nHost: x\r\n" + ok_headers + "\r\n",
                 200},
       }) {
    Client c(lb.port(), 5000);
    ASSERT_TRUE(c.send_raw(p.request));
    auto r = c.read_response();
    ASSERT_TRUE(r) << p.status;
    EXPECT_EQ(r->status, p.status) << p.request.substr(0, 40);
  }
  EXPECT_EQ(target.requests(), 1u) << "only the request within the limits is forwarded";
}

}  // namespace
}  // namespace ballast::test
