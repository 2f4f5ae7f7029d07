#include "proxy/forwarding.h"

#include <gtest/gtest.h>

#include <string>

namespace ballast::proxy {
namespace {

std::string upstream_head_with(const http::MessageHead& h, const ClientFacts& facts) {
  core::BufferPool pool;
  core::Buffer out(&pool);
  write_upstream_request_head(h, facts, out);
  std::string s(out.view());
  out.consume(out.size());
  return s;
}

http::MessageHead request_with(std::vector<http::Header> headers) {
  http::MessageHead h;
  h.method = "GET";
  h.target = "/p?q=1";
  h.headers = std::move(headers);
  h.host = h.find("host");
  h.connection = h.find("connection");
  return h;
}

ClientFacts facts(std::string_view proto, std::string_view request_id,
                  std::string_view subject_header = {}, std::string_view subject = {}) {
  ClientFacts f;
  f.client_ip = "10.0.0.9";
  f.proto = proto;
  f.request_id = request_id;
  f.client_subject_header = subject_header;
  f.client_subject = subject;
  return f;
}

std::string upstream_head(const http::MessageHead& h, std::string_view request_id = "rid-1") {
  return upstream_head_with(h, facts("http", request_id));
}

TEST(ForwardingTest, RemovesHopByHopHeadersIncludingThoseConnectionNames) {
  auto h = request_with({{"Host", "ex.com"},
                         {"Connection", "keep-alive, X-Internal"},
                         {"Keep-Alive", "timeout=5"},
                         {"TE", "trailers"},
                         {"Upgrade", "websocket"},
                         {"Proxy-Authorization", "secret"},
                         {"X-Internal", "1"},
                         {"Accept", "*/*"}});
  std::string out = upstream_head(h);
  EXPECT_EQ(out.rfind("GET /p?q=1 HTTP/1.1\r\n", 0), 0u) << out;
  for (const char* gone :
       {"Connection:", "Keep-Alive:", "TE:", "Upgrade:", "Proxy-Authorization:", "X-Internal:"}) {
    EXPECT_EQ(out.find(gone), std::string::npos) << gone << " in\n" << out;
  }
  EXPECT_NE(out.find("Accept: */*\r\n"), std::string::npos);
  EXPECT_NE(out.find("Host: ex.com\r\n"), std::string::npos);
}

TEST(ForwardingTest, SetsForwardedHeaders) {
  auto h = request_with(
      {{"Host", "ex.com"}, {"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "evil"}});
  std::string out = upstream_head(h);
  EXPECT_NE(out.find("X-Forwarded-For: 10.0.0.9\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("X-Forwarded-Proto: http\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("X-Forwarded-Host: ex.com\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("evil"), std::string::npos) << "client-supplied values are replaced";
  EXPECT_EQ(out.find("https"), std::string::npos);
}

TEST(ForwardingTest, AppendsToEveryExistingForwardedForLine) {
  auto h = request_with(
      {{"Host", "a"}, {"X-Forwarded-For", "1.1.1.1"}, {"X-Forwarded-For", "2.2.2.2, 3.3.3.3"}});
  std::string out = upstream_head(h);
  EXPECT_NE(out.find("X-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.9\r\n"), std::string::npos)
      << out;
  EXPECT_EQ(out.find("X-Forwarded-For", out.find("X-Forwarded-For") + 1), std::string::npos);
}

TEST(ForwardingTest, RequestIdIsAddedOnlyWhenAbsent) {
  EXPECT_NE(upstream_head(request_with({{"Host", "a"}})).find("X-Request-Id: rid-1\r\n"),
            std::string::npos);
  std::string kept = upstream_head(request_with({{"Host", "a"}, {"X-Request-Id", "mine"}}));
  EXPECT_NE(kept.find("X-Request-Id: mine\r\n"), std::string::npos);
  EXPECT_EQ(kept.find("rid-1"), std::string::npos);
}

TEST(ForwardingTest, ReframesTheBodyFromTheParse) {
  auto h = request_with({{"Host", "a"}, {"Transfer-Encoding", "chunked"}});
  h.chunked = true;
  std::string out = upstream_head(h);
  EXPECT_NE(out.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  auto c = request_with({{"Host", "a"}, {"Content-Length", "0005"}});
  c.has_content_length = true;
  c.content_length = 5;
  out = upstream_head(c);
  EXPECT_NE(out.find("Content-Length: 5\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("0005"), std::string::npos);
}

TEST(ForwardingTest, ClientFraming) {
  http::MessageHead r;
  r.status = 200;
  EXPECT_EQ(choose_client_framing(r, true, true), ClientFraming::kNone);
  EXPECT_EQ(choose_client_framing(r, false, true), ClientFraming::kChunked);
  EXPECT_EQ(choose_client_framing(r, false, false), ClientFraming::kUntilClose);
  r.has_content_length = true;
  EXPECT_EQ(choose_client_framing(r, false, false), ClientFraming::kContentLength);
}

TEST(ForwardingTest, ClientResponseHeadStatesConnectionAndFraming) {
  http::MessageHead r;
  r.status = 200;
  r.reason = "OK";
  r.headers = {
      {"Content-Type", "text/plain"}, {"Transfer-Encoding", "chunked"}, {"Connection", "close"}};
  core::BufferPool pool;
  core::Buffer out(&pool);
  write_client_response_head(r, ClientFraming::kChunked, true, false, out);
  std::string s(out.view());
  out.consume(out.size());
  EXPECT_EQ(s,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
            "Connection: close\r\n\r\n");
  // An HTTP/1.0 client that asked for keep-alive is told it was granted.
  r.content_length = 3;
  write_client_response_head(r, ClientFraming::kContentLength, false, true, out);
  s = out.view();
  out.consume(out.size());
  EXPECT_EQ(s,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
            "Connection: keep-alive\r\n\r\n");
}

TEST(ForwardingTest, TlsRequestsSayHttpsAndCarryOnlyTheVerifiedClientSubject) {
  auto h = request_with({{"Host", "ex.com"},
                         {"X-Client-Cert-Subject", "CN=forged"},
                         {"x-client-cert-subject", "CN=forged too"}});
  std::string out =
      upstream_head_with(h, facts("https", "rid", "X-Client-Cert-Subject", "CN=alice,O=Example"));
  EXPECT_NE(out.find("X-Forwarded-Proto: https\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("forged"), std::string::npos) << out;
  EXPECT_NE(out.find("X-Client-Cert-Subject: CN=alice,O=Example\r\n"), std::string::npos) << out;
  // No verified certificate: the header is still removed, and none is added.
  out = upstream_head_with(h, facts("https", "rid", "X-Client-Cert-Subject", ""));
  EXPECT_EQ(out.find("X-Client-Cert-Subject"), std::string::npos) << out;
}

TEST(ForwardingTest, AResponseHeaderPolicySetsAddsDefaultsAndRemoves) {
  using Mode = config::ResponseHeadersConfig::Field::Mode;
  config::ResponseHeadersConfig policy;
  policy.fields = {{"Cache-Control", "no-store", Mode::kSet},
                   {"Link", "</b.css>; rel=preload", Mode::kAdd},
                   {"X-Frame-Options", "SAMEORIGIN", Mode::kDefault},
                   {"X-Content-Type-Options", "nosniff", Mode::kDefault}};
  policy.remove = {"server", "X-Powered-By"};
  http::MessageHead r;
  r.status = 200;
  r.reason = "OK";
  r.content_length = 0;
  r.headers = {{"cache-control", "max-age=600"}, {"Link", "</a.css>; rel=preload"},
               {"X-Frame-Options", "DENY"},      {"Server", "app/1.0"},
               {"x-powered-by", "php"},          {"X-A", "1"}};
  core::BufferPool pool;
  core::Buffer out(&pool);
  write_client_response_head(r, ClientFraming::kContentLength, true, true, out, "", "", &policy);
  std::string s(out.view());
  EXPECT_EQ(s,
            "HTTP/1.1 200 OK\r\nLink: </a.css>; rel=preload\r\nX-Frame-Options: DENY\r\n"
            "X-A: 1\r\nCache-Control: no-store\r\nLink: </b.css>; rel=preload\r\n"
            "X-Content-Type-Options: nosniff\r\nContent-Length: 0\r\n\r\n")
      << "the target's X-Frame-Options wins over the preset's default";
}

TEST(ForwardingTest, ListenerHstsReplacesTheTargets) {
  http::MessageHead r;
  r.status = 200;
  r.reason = "OK";
  r.content_length = 0;
  r.headers = {{"Strict-Transport-Security", "max-age=60"}, {"X-A", "1"}};
  core::BufferPool pool;
  core::Buffer out(&pool);
  write_client_response_head(r, ClientFraming::kContentLength, true, true, out, "",
                             "Strict-Transport-Security: max-age=31536000\r\n");
  std::string s(out.view());
  out.consume(out.size());
  EXPECT_EQ(s,
            "HTTP/1.1 200 OK\r\nX-A: 1\r\nStrict-Transport-Security: max-age=31536000\r\n"
            "Content-Length: 0\r\n\r\n");
  // Without a listener setting the target's header passes as it is.
  write_client_response_head(r, ClientFraming::kContentLength, true, true, out);
  s = out.view();
  out.consume(out.size());
  EXPECT_NE(s.find("Strict-Transport-Security: max-age=60\r\n"), std::string::npos) << s;
}

}  // namespace
}  // namespace ballast::proxy
