#include "http/http_call.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "core/sockets.h"
#include "support/recording_server.h"

namespace ballast::http {
namespace {

test::RecordingServer::Responder answer(std::string response) {
  return [response](const std::string&) { return response; };
}

core::SocketAddress loopback(uint16_t port) {
  std::string error;
  return *core::SocketAddress::parse("127.0.0.1:" + std::to_string(port), &error, false);
}

HttpCallResult call(const core::SocketAddress& address, int64_t timeout_ms = 3000,
                    size_t max_body = 1 << 20) {
  core::EventLoop loop;
  HttpCallRequest r;
  r.method = "POST";
  r.address = address;
  r.host = "example";
  r.path = "/hook";
  r.content_type = "application/json";
  r.body = "{}";
  HttpCallResult out;
  HttpCall c(
      loop, r, timeout_ms,
      [&](const HttpCallResult& result) {
        out = result;
        loop.stop();
      },
      max_body);
  loop.update_time();
  c.start();
  loop.run();
  return out;
}

TEST(HttpCallTest, ContentLengthAnswerCompletesWithoutWaitingForClose) {
  test::RecordingServer server(answer("HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello"));
  HttpCallResult r = call(loopback(server.port()));
  EXPECT_TRUE(r.answered) << r.error;
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "hello");
}

TEST(HttpCallTest, ChunkedAndUntilCloseBodiesAreDecoded) {
  test::RecordingServer chunked(answer(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  HttpCallResult r = call(loopback(chunked.port()));
  EXPECT_TRUE(r.answered) << r.error;
  EXPECT_EQ(r.body, "abcde");
  std::string request = chunked.received();
  EXPECT_NE(request.find("POST /hook HTTP/1.1\r\nHost: example\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(request.find("Content-Length: 2\r\n\r\n{}"), std::string::npos);

  test::RecordingServer until_close(answer("HTTP/1.0 200 OK\r\n\r\n42"), true);
  r = call(loopback(until_close.port()), 3000, 1);
  EXPECT_TRUE(r.answered) << r.error;
  EXPECT_EQ(r.body, "4") << "the body is cut at max_body";
}

TEST(HttpCallTest, FailuresSayWhat) {
  test::RecordingServer garbage(answer("SMTP ready\r\n\r\n"));
  HttpCallResult r = call(loopback(garbage.port()));
  EXPECT_FALSE(r.answered);
  EXPECT_NE(r.error.find("invalid HTTP response"), std::string::npos) << r.error;

  // Listening but never accepting: the connection opens and nothing answers.
  std::string error;
  int silent = core::listen_tcp(loopback(0), false, 8, &error);
  r = call(core::local_address(silent), 200);
  ::close(silent);
  EXPECT_FALSE(r.answered);
  EXPECT_EQ(r.error, "no answer within 200ms");

  test::RecordingServer cut(answer("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), true);
  r = call(loopback(cut.port()));
  EXPECT_FALSE(r.answered);
  EXPECT_EQ(r.error, "the response was cut short");
}

TEST(HttpCallTest, ARefusedConnectionIsReportedFromTheLoop) {
  std::string error;
  int fd = core::listen_tcp(loopback(0), false, 8, &error);
  core::SocketAddress closed = core::local_address(fd);
  ::close(fd);  // nothing listens there now
  HttpCallResult r = call(closed);
  EXPECT_FALSE(r.answered);
  EXPECT_NE(r.error.find("connect: "), std::string::npos) << r.error;
}

}  // namespace
}  // namespace ballast::http
