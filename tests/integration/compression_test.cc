// A rule's compression: br, zstd or gzip as the client's Accept-Encoding chooses, only for
// listed types above the minimum size, never twice, with Vary: Accept-Encoding; bodies decode
// to the target's bytes over HTTP/1.1 and HTTP/2.
#include <gtest/gtest.h>

#include <regex>

#include "support/content_decoding.h"
#include "support/h2_peer.h"
#include "support/http_client.h"
#include "support/recording_server.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

std::string page() {
  std::string body;
  for (int i = 0; body.size() < 50000; ++i)
    body += "<tr><td>" + std::to_string(i) + "</td><td>a row of the report</td></tr>\n";
  return body;
}

// The target: /page (html, with a length), /chunked (html, chunked), /small, /image,
// /coded (already gzip), /no-transform.
std::string respond_compressible(const std::string& head) {
  static const std::string body = page();
  auto with = [](const std::string& type, const std::string& b, const std::string& extra = "") {
    return "HTTP/1.1 200 OK\r\nContent-Type: " + type +
           "\r\nContent-Length: " + std::to_string(b.size()) + "\r\nETag: \"v1\"\r\n" + extra +
           "\r\n" + b;
  };
  if (head.find("GET /chunked") == 0) {
    return "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
           "1000\r\n" +
           body.substr(0, 4096) + "\r\n0\r\n\r\n";
  }
  if (head.find("GET /small") == 0) return with("text/html", "tiny");
  if (head.find("GET /image") == 0) return with("image/png", body);
  if (head.find("GET /coded") == 0) return with("text/html", body, "Content-Encoding: gzip\r\n");
  if (head.find("GET /no-transform") == 0)
    return with("text/html", body, "Cache-Control: no-transform\r\n");
  return with("text/html; charset=utf-8", body);
}

std::string compression_config(uint16_t target, const std::string& compression) {
  return "workers: 1\nlisteners:\n  - name: web\n    bind: 127.0.0.1:${PORT}\n"
         "    http2: { enabled: true }\n"
         "    rules:\n      - forward: { target_group: app }\n        compression: " +
         compression +
         "\ntarget_groups:\n  - name: app\n    targets: [ { address: " + loopback(target) +
         " } ]\n";
}

std::optional<Response> get_encoded(uint16_t port, const std::string& path,
                                    const std::string& accept) {
  Client c(port);
  if (!c.send_raw("GET " + path + " HTTP/1.1\r\nHost: t\r\n" +
                  (accept.empty() ? "" : "Accept-Encoding: " + accept + "\r\n") + "\r\n"))
    return std::nullopt;
  return c.read_response();
}

TEST(CompressionTest, TheClientsChoiceAmongTheRulesCodings) {
  RecordingServer target(respond_compressible);
  Ballast lb(compression_config(target.port(), "true"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  const std::string body = page();
  for (auto [accept, coding] :
       std::vector<std::pair<std::string, std::string>>{{"gzip, deflate, br, zstd", "br"},
                                                        {"gzip;q=1, br;q=0.5", "gzip"},
                                                        {"zstd", "zstd"},
                                                        {"*;q=0.1, br;q=0", "zstd"}}) {
    auto r = get_encoded(lb.port(), "/page", accept);
    ASSERT_TRUE(r) << lb.process().log();
    ASSERT_EQ(r->status, 200);
    EXPECT_EQ(r->header("content-encoding"), coding) << accept;
    EXPECT_EQ(r->header("vary"), "Accept-Encoding");
    EXPECT_EQ(r->header("etag"), "W/\"v1\"") << "other bytes than the target's: a weak ETag";
    EXPECT_EQ(r->header("content-length"), "");
    EXPECT_LT(r->body.size(), body.size() / 4);
    EXPECT_TRUE(decode_content(coding, r->body) == body) << accept;
  }
  // A chunked body from the target is coded as it streams.
  auto chunked = get_encoded(lb.port(), "/chunked", "gzip");
  ASSERT_TRUE(chunked);
  EXPECT_EQ(chunked->header("content-encoding"), "gzip");
  EXPECT_TRUE(decode_content("gzip", chunked->body) == body.substr(0, 4096));
}

TEST(CompressionTest, WhatIsNotCodedAndWhy) {
  RecordingServer target(respond_compressible);
  Ballast lb(
      compression_config(target.port(), "{ codings: [gzip], types: [text/html], min_size: 1KiB }"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  const std::string body = page();
  // No Accept-Encoding, or only codings the rule does not offer: identity, but Vary says
  // that another client could get other bytes.
  for (std::string accept : {"", "br, zstd", "gzip;q=0"}) {
    auto r = get_encoded(lb.port(), "/page", accept);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("content-encoding"), "") << accept;
    EXPECT_EQ(r->header("vary"), "Accept-Encoding") << accept;
    EXPECT_EQ(r->header("etag"), "\"v1\"");
    EXPECT_TRUE(r->body == body);
  }
  for (std::string path : {"/small", "/image", "/no-transform"}) {
    auto r = get_encoded(lb.port(), path, "gzip");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("content-encoding"), "") << path;
  }
  // Never twice: the target's own gzip passes as it is.
  auto coded = get_encoded(lb.port(), "/coded", "gzip");
  ASSERT_TRUE(coded);
  EXPECT_EQ(coded->header("content-encoding"), "gzip");
  EXPECT_TRUE(coded->body == body) << "the target's bytes, untouched";
  // HEAD: the head a GET without coding would have.
  Client c(lb.port());
  ASSERT_TRUE(c.send_raw("HEAD /page HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n"));
  auto head = c.read_response(true, /*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("content-encoding"), "");
  EXPECT_EQ(head->header("content-length"), std::to_string(body.size()));
}

TEST(CompressionTest, HttpTwoClientsGetCodedStreams) {
  RecordingServer target(respond_compressible);
  Ballast lb(compression_config(target.port(), "true"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  // The frame-level peer sends no Accept-Encoding; nghttp's client does.
  std::string dir = make_temp_dir();
  Process nghttp({"/usr/bin/nghttp", "-n", "-s", "-H", "accept-encoding: gzip",
                  "http://127.0.0.1:" + std::to_string(lb.port()) + "/page", "-v"},
                 dir + "/nghttp.log");
  ASSERT_EQ(nghttp.wait_exit(20000), 0) << nghttp.log();
  EXPECT_NE(nghttp.log().find("content-encoding: gzip"), std::string::npos) << nghttp.log();
  // The coded body ends the stream: a DATA frame from ballast with END_STREAM (flags=0x01),
  // not a reset (the request's own HEADERS carry END_STREAM too, so that alone proves nothing).
  EXPECT_TRUE(
      std::regex_search(nghttp.log(), std::regex("recv DATA frame <length=[0-9]+, flags=0x01")))
      << nghttp.log();
  EXPECT_EQ(nghttp.log().find("recv RST_STREAM"), std::string::npos) << nghttp.log();
}

}  // namespace
}  // namespace ballast::test
