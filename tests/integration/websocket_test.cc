// WebSocket through ballast: real peers on both sides (Debian's python3-websockets), over
// plain and TLS listeners; tunnels that outlive reloads, close when idle, and are counted.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "support/h2_peer.h"
#include "support/http_client.h"
#include "support/load_loop.h"
#include "support/test_env.h"
#include "support/test_pki.h"

namespace ballast::test {
namespace {

using nlohmann::json;

const std::string kPeer =
    std::string(BALLAST_SOURCE_DIR) + "/tests/integration/peers/websocket_peer.py";

// An echo server on a free port.
class EchoServer {
 public:
  EchoServer() : port_(free_port()), dir_(make_temp_dir()) {
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/python3", kPeer, "serve", std::to_string(port_)},
        dir_ + "/server.log");
    ready_ = wait_for_port(port_);
  }
  uint16_t port() const { return port_; }
  bool ready() const { return ready_; }

 private:
  uint16_t port_;
  std::string dir_;
  bool ready_ = false;
  std::unique_ptr<Process> process_;
};

// Runs the talking peer; its JSON summary (null when it printed none) and exit code.
struct Talk {
  int exit_code = -1;
  json summary;
  std::string output;
};
Talk talk(const std::string& url, int count, const std::vector<std::string>& extra = {}) {
  std::string dir = make_temp_dir();
  std::vector<std::string> argv{"/usr/bin/python3", kPeer, "talk", url, std::to_string(count)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Process p(argv, dir + "/talk.log");
  Talk t;
  t.exit_code = p.wait_exit(60000);
  t.output = p.log();
  size_t brace = t.output.rfind("\n{");
  std::string last = brace == std::string::npos ? t.output : t.output.substr(brace + 1);
  t.summary = json::parse(last, nullptr, false);
  return t;
}

// `more_listeners`: complete listener entries after the first.
std::string ws_config(uint16_t target, const std::string& listener_extra = "",
                      const std::string& more_listeners = "") {
  return "workers: 2\nlisteners:\n  - name: web\n    bind: 127.0.0.1:${PORT}\n" + listener_extra +
         "    rules:\n      - forward: { target_group: chat }\n" + more_listeners +
         "target_groups:\n  - name: chat\n    targets: [ { address: " + loopback(target) + " } ]\n";
}

TEST(WebSocketTest, MessagesPassBothWaysOverPlainAndTlsListeners) {
  EchoServer server;
  ASSERT_TRUE(server.ready());
  std::string dir = make_temp_dir();
  TestPki pki(dir);
  auto site = pki.issue("chat", {"chat.test"});
  const uint16_t tls_port = free_port();
  Ballast lb(ws_config(server.port(), "",
                       "  - name: secure\n    bind: " + loopback(tls_port) +
                           "\n    tls:\n      certificates: [ { cert: " + site.cert +
                           ", key: " + site.key +
                           " } ]\n    rules:\n      - forward: { target_group: chat }\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();

  Talk plain = talk("ws://127.0.0.1:" + std::to_string(lb.port()) + "/chat", 300);
  ASSERT_EQ(plain.exit_code, 0) << plain.output << lb.process().log();
  EXPECT_EQ(plain.summary["echoed"], 300);
  EXPECT_GT(plain.summary["bytes"].get<int>(), 5000000) << "messages up to 70 KB each";
  EXPECT_EQ(plain.summary["headers"]["X-Forwarded-Proto"], "http") << plain.output;
  EXPECT_EQ(plain.summary["headers"]["X-Forwarded-For"], "127.0.0.1");

  // wss:// to loopback, verifying the certificate's name.
  Talk secure = talk("wss://127.0.0.1:" + std::to_string(tls_port) + "/chat", 100,
                     {"--ca", pki.ca_file(), "--server-name", "chat.test"});
  ASSERT_EQ(secure.exit_code, 0) << secure.output << lb.process().log();
  EXPECT_EQ(secure.summary["echoed"], 100);
  EXPECT_EQ(secure.summary["headers"]["X-Forwarded-Proto"], "https");

  EXPECT_TRUE(within(5, [&] {
    return metric_value(lb.admin_port(),
                        "ballast_listener_websocket_upgrades_total{listener=\"web\"}") == 1 &&
           metric_value(lb.admin_port(),
                        "ballast_listener_websocket_upgrades_total{listener=\"secure\"}") == 1 &&
           metric_value(lb.admin_port(), "ballast_listener_active_tunnels{listener=\"web\"}") == 0;
  })) << admin_call(lb.admin_port(), "GET", "/metrics").body;
}

TEST(WebSocketTest, AnUpgradeToAnHttp2GroupTakesAnHttp1ConnectionOfItsOwn) {
  // The echo server speaks HTTP/1.1 only: an upgrade sent as an HTTP/2 stream would fail.
  EchoServer server;
  ASSERT_TRUE(server.ready());
  std::string config = ws_config(server.port());
  config = replace_all(config, "  - name: chat\n", "  - name: chat\n    protocol_version: http2\n");
  Ballast lb(config);
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  Talk t = talk("ws://127.0.0.1:" + std::to_string(lb.port()) + "/chat", 20);
  ASSERT_EQ(t.exit_code, 0) << t.output << lb.process().log();
  EXPECT_EQ(t.summary["echoed"], 20);
}

TEST(WebSocketTest, ATunnelOutlivesAReload) {
  EchoServer server;
  ASSERT_TRUE(server.ready());
  Ballast lb(ws_config(server.port(), "    idle_timeout: 30s\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  std::string dir = make_temp_dir();
  Process client(
      {"/usr/bin/python3", kPeer, "talk", "ws://127.0.0.1:" + std::to_string(lb.port()) + "/",
       "100", "--pause-after", "50", "--pause-seconds", "3"},
      dir + "/talk.log");
  ASSERT_TRUE(within(20, [&] { return client.log().find("paused") != std::string::npos; }))
      << client.log();
  EXPECT_EQ(metric_value(lb.admin_port(), "ballast_listener_active_tunnels{listener=\"web\"}"), 1);
  // A reload mid-conversation (the rules change): the tunnel keeps its configuration.
  lb.rewrite_config(ws_config(server.port(), "    idle_timeout: 20s\n"));
  lb.process().signal(SIGHUP);
  ASSERT_TRUE(within(10, [&] { return config_generation(lb.admin_port()) == 2; }))
      << lb.process().log();
  EXPECT_EQ(client.wait_exit(30000), 0) << client.log() << lb.process().log();
  EXPECT_NE(client.log().find("\"echoed\": 100"), std::string::npos) << client.log();
}

TEST(WebSocketTest, AnIdleTunnelClosesAfterIdleTimeout) {
  EchoServer server;
  ASSERT_TRUE(server.ready());
  Ballast lb(ws_config(server.port(), "    idle_timeout: 1s\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  // Quiet for 3 s after 5 messages: ballast closes the tunnel after 1 s of it.
  Talk t = talk("ws://127.0.0.1:" + std::to_string(lb.port()) + "/", 10,
                {"--pause-after", "5", "--pause-seconds", "3"});
  EXPECT_NE(t.exit_code, 0) << t.output;
  EXPECT_NE(lb.process().log().find("WebSocket tunnel idle for"), std::string::npos)
      << lb.process().log();
  EXPECT_TRUE(within(5, [&] {
    return metric_value(lb.admin_port(), "ballast_listener_active_tunnels{listener=\"web\"}") == 0;
  }));
}

// A target that does not speak WebSocket answers the upgrade request as a plain request:
// the client gets that answer and the connection goes on as HTTP.
TEST(WebSocketTest, ATargetThatDeclinesTheUpgradeAnswersAsHttp) {
  DemoBackend backend("plain");
  Ballast lb(ws_config(backend.port()));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  Client c(lb.port());
  auto r = c.get("/echo",
                 "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
  ASSERT_TRUE(r) << lb.process().log();
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("Upgrade: websocket\n"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n"), std::string::npos);
  auto again = c.get("/");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  // Other upgrades (h2c, say) are hop-by-hop and never reach the target.
  r = c.get("/echo", "Connection: Upgrade\r\nUpgrade: h2c\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body.find("h2c"), std::string::npos) << r->body;
}

// RFC 8441: a WebSocket over an HTTP/2 stream (extended CONNECT) reaches an HTTP/1.1
// WebSocket target as its upgrade, and messages pass both ways as DATA frames.
TEST(WebSocketTest, MessagesPassOverHttp2ExtendedConnect) {
  EchoServer server;
  ASSERT_TRUE(server.ready());
  Ballast lb(ws_config(server.port()));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  json r = run_h2_peer(lb.port(), "websocket", 5);
  ASSERT_TRUE(r.contains("streams")) << r.dump() << lb.process().log();
  EXPECT_EQ(r["connect_protocol"], 1) << r.dump();  // SETTINGS_ENABLE_CONNECT_PROTOCOL
  EXPECT_EQ(r["streams"]["1"]["status"], 200) << r.dump();
  ASSERT_EQ(r["echoed"].size(), 5u) << r.dump();
  EXPECT_EQ(r["echoed"][0], "echo:message 0 ");
  EXPECT_EQ(r["echoed"][4].get<std::string>().size(), 5 + 10 + 400u);
  // The client's close went through; the target closed, and the stream ended.
  EXPECT_TRUE(r["streams"]["1"]["complete"].get<bool>()) << r.dump();
  EXPECT_EQ(
      metric_value(lb.admin_port(), "ballast_listener_websocket_upgrades_total{listener=\"web\"}"),
      1);
}

}  // namespace
}  // namespace ballast::test
