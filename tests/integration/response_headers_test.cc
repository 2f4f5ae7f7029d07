// A rule's response_headers: fields set, added, defaulted (the security_headers preset) and
// removed on what the target answers, over HTTP/1.1 and HTTP/2, and on ballast's own answers.
#include <gtest/gtest.h>

#include "support/h2_peer.h"
#include "support/http_client.h"
#include "support/recording_server.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

// The target says who it is and sets what the policy overrides or removes.
std::string target_response(const std::string&) {
  return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: app/1.0\r\nX-Powered-By: php\r\n"
         "Cache-Control: max-age=600\r\nX-Frame-Options: DENY\r\n\r\nok";
}

std::string headers_config(uint16_t target) {
  return "workers: 1\nlisteners:\n  - name: web\n    bind: 127.0.0.1:${PORT}\n"
         "    http2: { enabled: true }\n"
         "    rules:\n"
         "      - match: { path_prefix: /static/ }\n"
         "        fixed_response: { status: 200, content_type: text/plain, body: static }\n"
         "        response_headers: { set: { Cache-Control: 'public, max-age=86400' } }\n"
         "      - forward: { target_group: app }\n"
         "        response_headers:\n"
         "          set: { Cache-Control: no-store }\n"
         "          add: { Link: '</app.css>; rel=preload' }\n"
         "          remove: [ Server, X-Powered-By ]\n"
         "          security_headers: { content_security_policy: \"default-src 'self'\" }\n"
         "target_groups:\n  - name: app\n    targets: [ { address: " +
         loopback(target) + " } ]\n";
}

TEST(ResponseHeadersTest, TheRulesPolicyShapesEveryResponse) {
  RecordingServer target(target_response);
  Ballast lb(headers_config(target.port()));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  auto r = http_get(lb.port(), "/page");
  ASSERT_TRUE(r) << lb.process().log();
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(r->header("cache-control"), "no-store");
  EXPECT_EQ(r->header("link"), "</app.css>; rel=preload");
  EXPECT_EQ(r->header("server"), "");
  EXPECT_EQ(r->header("x-powered-by"), "");
  EXPECT_EQ(r->header("x-frame-options"), "DENY") << "the target's own wins over the preset";
  EXPECT_EQ(r->header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r->header("referrer-policy"), "strict-origin-when-cross-origin");
  EXPECT_EQ(r->header("strict-transport-security"), "max-age=31536000");
  EXPECT_EQ(r->header("content-security-policy"), "default-src 'self'");

  auto fixed = http_get(lb.port(), "/static/a.css");
  ASSERT_TRUE(fixed);
  EXPECT_EQ(fixed->body, "static");
  EXPECT_EQ(fixed->header("cache-control"), "public, max-age=86400");
}

TEST(ResponseHeadersTest, HttpTwoClientsGetTheSameFields) {
  RecordingServer target(target_response);
  Ballast lb(headers_config(target.port()));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  nlohmann::json report = run_h2_peer(lb.port(), "ordinary");
  ASSERT_FALSE(report.contains("error")) << report.dump() << lb.process().log();
  const nlohmann::json& stream = report["streams"]["1"];
  ASSERT_EQ(stream["status"], 200) << report.dump();
  const nlohmann::json& fields = stream["fields"];
  EXPECT_EQ(fields.value("cache-control", ""), "no-store") << fields.dump();
  EXPECT_EQ(fields.value("x-content-type-options", ""), "nosniff") << fields.dump();
  EXPECT_FALSE(fields.contains("server")) << fields.dump();
}

}  // namespace
}  // namespace ballast::test
