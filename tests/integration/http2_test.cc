// HTTP/2 to clients: real clients (curl, nghttp, h2load from nghttp2-client) for what the
// HTTP/1.1 path does, and a frame-level peer (peers/h2_peer.py, python3-h2's hpack) for
// malformed requests and attacks.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "support/h2_peer.h"
#include "support/load_loop.h"
#include "support/process.h"
#include "support/recording_server.h"
#include "support/test_env.h"
#include "support/test_pki.h"

namespace ballast::test {
namespace {

using nlohmann::json;

// Runs a shell command; its exit code and output.
struct Shell {
  int exit_code;
  std::string output;
};
Shell shell(const std::string& command, int timeout_ms = 60000) {
  std::string log = make_temp_dir() + "/shell.log";
  int rc = run_shell(command + " 2>&1", log, timeout_ms);
  return {rc, read_file(log)};
}

std::string series(const std::string& name, const std::string& listener) {
  return name + "{listener=\"" + listener + "\"}";
}

// A TLS listener and a plain one (h2c) over two groups: /echo to `a`, the rest to `b`.
std::string two_listener_config(uint16_t a, uint16_t b, const TestPki::Issued& cert,
                                const std::string& log_path) {
  std::string rules =
      "    rules:\n"
      "      - match: { path_prefix: /echo }\n        forward: { target_group: a }\n"
      "      - forward: { target_group: b }\n";
  return "workers: 2\nlisteners:\n"
         "  - name: site\n    bind: 127.0.0.1:${PORT}\n"
         "    tls: { certificates: [ { cert: " +
         cert.cert + ", key: " + cert.key + " } ] }\n" + rules +
         "  - name: plain\n    bind: 127.0.0.1:" + std::to_string(free_port()) +
         "\n    access_log: { path: " + log_path + ", format: common }\n" + rules +
         "target_groups:\n"
         "  - name: a\n    targets: [ { address: " +
         loopback(a) +
         " } ]\n"
         "  - name: b\n    targets: [ { address: " +
         loopback(b) + " } ]\n";
}

uint16_t plain_port(const std::string& config) {
  size_t at = config.find("name: plain\n    bind: 127.0.0.1:");
  return static_cast<uint16_t>(std::stoi(config.substr(at + 32)));
}

TEST(Http2Test, ServesOverAlpnAndH2cAsHttp11Does) {
  std::string dir = make_temp_dir();
  TestPki pki(dir);
  auto cert = pki.issue("site", {"site.test"});
  DemoBackend a("a"), b("b");
  std::string config = two_listener_config(a.port(), b.port(), cert, dir + "/access.log");
  Ballast lb(config);
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  const std::string site = "https://site.test:" + std::to_string(lb.port());
  const std::string resolve = " --resolve site.test:" + std::to_string(lb.port()) + ":127.0.0.1";
  const uint16_t plain = plain_port(config);
  ASSERT_TRUE(wait_for_port(plain));

  // TLS with ALPN h2, verified against the test CA: routed by path to group a, forwarded
  // as HTTPS with the :authority as Host.
  Shell s = shell("curl -sS --http2 --cacert " + pki.ca_file() + resolve +
                  " -w '\\n%{http_version} %{http_code}' " + site + "/echo");
  EXPECT_EQ(s.exit_code, 0) << s.output;
  EXPECT_NE(s.output.find("\n2 200"), std::string::npos) << s.output;
  EXPECT_NE(s.output.find("X-Forwarded-Proto: https"), std::string::npos) << s.output;
  EXPECT_NE(s.output.find("host: site.test:"), std::string::npos) << s.output;

  // h2c with prior knowledge: split cookies are joined into one header for HTTP/1.1.
  s = shell("nghttp -H 'cookie: a=1' -H 'cookie: b=2' http://127.0.0.1:" + std::to_string(plain) +
            "/echo");
  EXPECT_EQ(s.exit_code, 0) << s.output;
  EXPECT_NE(s.output.find("cookie: a=1; b=2"), std::string::npos) << s.output;
  EXPECT_NE(s.output.find("X-Forwarded-Proto: http\n"), std::string::npos) << s.output;

  // A request body larger than the stream window (65535) arrives whole.
  std::string body = dir + "/body";
  ASSERT_EQ(shell("head -c 300000 /dev/zero > " + body).exit_code, 0);
  s = shell("curl -sS --http2 --cacert " + pki.ca_file() + resolve + " --data-binary @" + body +
            " " + site + "/upload");
  EXPECT_NE(s.output.find("received 300000 bytes"), std::string::npos) << s.output;

  // Many streams on few connections, over both listeners.
  for (const std::string& url : {"https://127.0.0.1:" + std::to_string(lb.port()) + "/",
                                 "http://127.0.0.1:" + std::to_string(plain) + "/"}) {
    s = shell("h2load -n 2000 -c 4 -m 20 " + url);
    EXPECT_NE(s.output.find("2000 succeeded, 0 failed"), std::string::npos) << s.output;
    EXPECT_NE(s.output.find("status codes: 2000 2xx"), std::string::npos) << s.output;
  }
  EXPECT_GE(metric_value(lb.admin_port(), series("ballast_listener_http2_streams_total", "site")),
            2002);
  EXPECT_GE(
      metric_value(lb.admin_port(), series("ballast_listener_http2_connections_total", "plain")),
      5);
  // The access log says which protocol the client spoke.
  EXPECT_TRUE(within(5, [&] {
    return read_file(dir + "/access.log").find("\"GET /echo HTTP/2.0\" 200") != std::string::npos;
  }));
}

TEST(Http2Test, RefusesWhatHttp11CannotCarryAndForwardsNothing) {
  RecordingServer target;
  Ballast lb(proxy_config({target.port()}, "", "", 1));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  // nghttp2's checks (RFC 9113 8.2 and 8.3) reset the stream; a head that decodes larger
  // than max_header_list_size is answered 431. The connection goes on either way.
  const std::vector<std::string> reset = {
      "transfer-encoding", "connection-header",       "uppercase-name",      "unknown-pseudo",
      "missing-path",      "content-length-mismatch", "content-length-short"};
  for (const std::string& scenario : reset) {
    json r = run_h2_peer(lb.port(), scenario);
    ASSERT_TRUE(r.contains("streams")) << scenario << ": " << r.dump();
    EXPECT_FALSE(r["streams"]["1"]["reset"].is_null()) << scenario << ": " << r.dump();
    EXPECT_EQ(r["streams"]["3"]["status"], 200) << scenario << ": " << r.dump();
  }
  json bomb = run_h2_peer(lb.port(), "hpack-bomb");
  EXPECT_EQ(bomb["streams"]["1"]["status"], 431) << bomb.dump();
  EXPECT_EQ(bomb["streams"]["3"]["status"], 200) << bomb.dump();
  // The target saw the follow-up requests (GET /) and nothing of the refused ones.
  std::string seen = target.received();
  EXPECT_EQ(target.requests(), reset.size() + 1) << seen;
  EXPECT_EQ(seen.find("POST"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("transfer-encoding"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("x-bomb"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("x-upper"), std::string::npos) << seen;
}

// A body ends with END_STREAM only when the Session finished its response: one that runs
// until its target closes ends normally, one its target cuts short is reset.
TEST(Http2Test, AResponseCutByItsTargetIsResetNotEnded) {
  RecordingServer until_close(
      [](const std::string&) { return "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello"; }, true);
  Ballast whole(proxy_config({until_close.port()}, "", "", 1));
  ASSERT_TRUE(whole.ready()) << whole.process().log();
  json r = run_h2_peer(whole.port(), "ordinary", 1);
  EXPECT_EQ(r["streams"]["1"]["status"], 200) << r.dump();
  EXPECT_TRUE(r["streams"]["1"]["complete"].get<bool>()) << r.dump();
  EXPECT_EQ(r["streams"]["1"]["bytes"], 5) << r.dump();

  RecordingServer cut(
      [](const std::string&) { return "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"; },
      true);
  Ballast lb(proxy_config({cut.port()}, "", "", 1));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  r = run_h2_peer(lb.port(), "ordinary", 1);
  // Reset, with or without the head before it (when head and cut arrive together, nghttp2
  // may send the RST_STREAM alone), never ended as if whole.
  EXPECT_FALSE(r["streams"]["1"]["reset"].is_null()) << r.dump();
  EXPECT_LT(r["streams"]["1"]["bytes"].get<int>(), 100) << r.dump();
  EXPECT_FALSE(r["streams"]["1"]["complete"].get<bool>()) << r.dump();
}

// Each attack ends its connection with GOAWAY well before the attacker is done, and
// ballast's memory stays where it was.
TEST(Http2Test, AttacksEndTheirConnectionWithGoaway) {
  DemoBackend backend;
  Ballast lb(proxy_config({backend.port()}, "", "", 2));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_EQ(run_h2_peer(lb.port(), "ordinary", 10)["streams"].size(), 10u);
  long rss_before = peak_rss_bytes(lb.process().pid());
  constexpr uint32_t kEnhanceYourCalm = 11, kInternalError = 2;
  struct Attack {
    std::string scenario;
    int count;
    uint32_t code;
  };
  const std::vector<Attack> attacks = {
      {"rapid-reset", 20000, kInternalError},  // nghttp2's own reset-rate limit
      {"continuation-flood", 100000, kEnhanceYourCalm},
      {"ping-flood", 100000, kEnhanceYourCalm},
      {"settings-flood", 100000, kEnhanceYourCalm},
      {"empty-data-flood", 100000, kEnhanceYourCalm},
  };
  for (const Attack& a : attacks) {
    json r = run_h2_peer(lb.port(), a.scenario, a.count);
    ASSERT_TRUE(r.contains("goaway")) << a.scenario << ": " << r.dump();
    ASSERT_FALSE(r["goaway"].is_null()) << a.scenario << ": " << r.dump();
    EXPECT_EQ(r["goaway"]["code"], a.code) << a.scenario << ": " << r.dump();
    // Well before the attacker is done (under a sanitizer ballast is slower to read it all).
    EXPECT_LT(r["sent"].get<int>(), ballast_is_instrumented() ? a.count : a.count / 5)
        << a.scenario << ": " << r.dump();
    std::cout << a.scenario << ": GOAWAY after " << r["sent"] << " of " << a.count << " frames\n";
  }
  EXPECT_EQ(metric_value(lb.admin_port(), series("ballast_listener_http2_goaways_total", "web")),
            5);
  // Ordinary clients were never bothered.
  json after = run_h2_peer(lb.port(), "ordinary", 10);
  EXPECT_EQ(after["streams"].size(), 10u) << after.dump();
  EXPECT_TRUE(after["goaway"].is_null()) << after.dump();
  long rss_after = peak_rss_bytes(lb.process().pid());
  if (!ballast_is_instrumented()) {
    EXPECT_LT(rss_after - rss_before, 64L << 20);
  }
  std::cout << "ballast peak RSS " << rss_before / 1048576 << " MiB before the attacks, "
            << rss_after / 1048576 << " MiB after\n";
  EXPECT_NE(lb.process().log().find("rapid reset, CVE-2023-44487"), std::string::npos)
      << lb.process().log();
}

// A stream whose client never opens its window holds a few buffers, not its 50 MB
// response, and is reset after send_timeout; the connection's other streams go on.
TEST(Http2Test, AStreamThatNeverReadsIsResetAfterSendTimeout) {
  DemoBackend backend;
  Ballast lb(proxy_config({backend.port()}, "", "    send_timeout: 1s\n", 1));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  long rss_before = peak_rss_bytes(lb.process().pid());
  json r = run_h2_peer(lb.port(), "slow-read", 10);
  ASSERT_TRUE(r.contains("streams")) << r.dump();
  EXPECT_FALSE(r["streams"]["1"]["reset"].is_null()) << r.dump();
  EXPECT_LT(r["streams"]["1"]["bytes"].get<int>(), 100) << r.dump();
  EXPECT_EQ(r["streams"]["3"]["status"], 200) << r.dump();
  EXPECT_TRUE(r["streams"]["3"]["complete"].get<bool>()) << r.dump();
  if (!ballast_is_instrumented()) {
    EXPECT_LT(peak_rss_bytes(lb.process().pid()) - rss_before, 16L << 20);
  }
  EXPECT_NE(lb.process().log().find("(send_timeout), closed"), std::string::npos)
      << lb.process().log();
}

// Reloads while h2load keeps 40 streams busy: every request is answered. Removing the
// listener sends GOAWAY, and its last streams finish.
TEST(Http2Test, ReloadsUnderLoadFailNoStream) {
  DemoBackend a("a"), b("b");
  const std::string one = proxy_config({a.port()}, "", "", 2);
  const std::string two = proxy_config({a.port(), b.port()}, "", "", 2);
  Ballast lb(one);
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  std::string dir = make_temp_dir();
  Process load({"/usr/bin/h2load", "-D", "4", "-c", "4", "-m", "10",
                "http://127.0.0.1:" + std::to_string(lb.port()) + "/"},
               dir + "/h2load.log");
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    lb.rewrite_config(i % 2 == 0 ? two : one);
    lb.process().signal(SIGHUP);
    ASSERT_TRUE(within(10, [&] { return config_generation(lb.admin_port()) == i + 2; }))
        << lb.process().log();
  }
  ASSERT_EQ(load.wait_exit(30000), 0) << load.log();
  std::string out = load.log();
  EXPECT_NE(out.find(" 0 failed, 0 errored, 0 timeout"), std::string::npos) << out;
  EXPECT_EQ(out.find("status codes: 0 2xx"), std::string::npos) << out;
}

}  // namespace
}  // namespace ballast::test
