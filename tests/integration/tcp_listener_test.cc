// TCP listeners (protocol: tcp): connections relayed as bytes to a target group, and the
// PROXY protocol both ways, with real peers: haproxy sends it to ballast, nginx receives
// it from ballast.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/http_client.h"
#include "support/load_loop.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

// Sends `request` on a new connection from `source`, half-closes, reads to the end.
std::string exchange_from(const std::string& source, uint16_t port, const std::string& request) {
  int fd = connect_from(source, port);
  if (fd < 0) return "(no connection)";
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  shutdown(fd, SHUT_WR);
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = recv(fd, buf, sizeof(buf), 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

std::string tcp_config(const std::vector<uint16_t>& targets, const std::string& listener_extra = "",
                       const std::string& group_extra = "") {
  std::string y =
      "workers: 2\nlisteners:\n  - name: db\n    bind: 127.0.0.1:${PORT}\n    protocol: tcp\n" +
      listener_extra + "    rules:\n      - forward: { target_group: pool }\n" +
      "target_groups:\n  - name: pool\n    algorithm: round_robin\n" + group_extra +
      "    targets:\n";
  for (uint16_t t : targets) y += "      - { address: " + loopback(t) + " }\n";
  return y;
}

// Both relays: the kernel's (the default, an eBPF sockmap program) and ballast's own.
class TcpRelayTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TcpRelayTest, RelaysConnectionsAcrossTheGroupsTargets) {
  const bool kernel = GetParam() == "kernel";
  DemoBackend a("a"), b("b");
  Ballast lb(tcp_config({a.port(), b.port()}, "    relay: " + GetParam() + "\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  std::map<std::string, int> seen;
  for (int i = 0; i < 20; ++i) {
    Client c(lb.port());
    auto r = c.get("/");
    ASSERT_TRUE(r) << lb.process().log();
    ++seen[r->header("x-ballast-instance")];
    // Bytes pass untouched: the target sees the client's own headers, nothing added.
    auto echo = c.get("/echo");
    ASSERT_TRUE(echo);
    EXPECT_EQ(echo->body.find("X-Forwarded-For"), std::string::npos) << echo->body;
  }
  EXPECT_EQ(seen["a"], 10);
  EXPECT_EQ(seen["b"], 10);
  {
    // Large bodies both ways: ballast's relay splices them (the kernel relay hands such
    // flows back to it once they outrun its budget).
    Client big(lb.port(), 30000);
    auto down = big.get("/bytes/30000000");
    ASSERT_TRUE(down);
    EXPECT_EQ(down->body.size(), 30000000u);
    ASSERT_TRUE(
        big.send_raw("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\n"));
    ASSERT_TRUE(big.send_zeros(20000000));
    auto up = big.read_response();
    ASSERT_TRUE(up);
    EXPECT_EQ(up->body, "received 20000000 bytes\n");
    // A client that reads late: what its socket cannot take waits in the relay's pipe, and
    // every byte arrives.
    ASSERT_TRUE(big.send_raw("GET /bytes/8000000 HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto late = big.read_response();
    ASSERT_TRUE(late);
    EXPECT_EQ(late->body.size(), 8000000u);
    auto after = big.get("/");  // and the connection still carries small messages
    ASSERT_TRUE(after);
    EXPECT_EQ(after->status, 200);
  }
  // A half-close goes through: the target answers, then both ends close.
  std::string reply = exchange_from("127.0.0.1", lb.port(), "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply;
  std::string metrics = admin_call(lb.admin_port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("ballast_listener_received_bytes_total{listener=\"db\"} 200"),
            std::string::npos)
      << "the upload's 20 MB and the requests, counted: " << metrics.substr(0, 1500);
  EXPECT_TRUE(within(5, [&] {
    return admin_call(lb.admin_port(), "GET", "/metrics")
               .body.find("ballast_listener_active_connections{listener=\"db\"} 0") !=
           std::string::npos;
  }));
  // Every connection's bytes went through the relay asked for. In the kernel's, the bulk
  // transfers outran its budget and were handed back to ballast's own relay.
  const double relayed = metric_value(
      lb.admin_port(), "ballast_listener_kernel_relayed_connections_total{listener=\"db\"}");
  const double handbacks =
      metric_value(lb.admin_port(), "ballast_listener_kernel_handbacks_total{listener=\"db\"}");
  if (kernel) {
    // The 20 clients and the big one. (A socket that already half-closed when the target
    // answered, like the last exchange's, cannot join the relay's map: ballast relays it.)
    EXPECT_GE(relayed, 21) << lb.process().log();
    EXPECT_GE(handbacks, 1);
  } else {
    EXPECT_EQ(relayed, 0);
    EXPECT_EQ(handbacks, 0);
  }
}

TEST_P(TcpRelayTest, AnIdleConnectionIsClosedAndABusyOneIsNot) {
  DemoBackend backend("b");
  Ballast lb(tcp_config({backend.port()}, "    relay: " + GetParam() + "\n    idle_timeout: 1s\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  Client busy(lb.port());
  Client idle(lb.port());
  ASSERT_TRUE(idle.get("/"));
  // Busy for 2.5 s, a request every 250 ms: never idle for a second.
  for (int i = 0; i < 10; ++i) {
    auto r = busy.get("/");
    ASSERT_TRUE(r) << "request " << i << ": " << lb.process().log();
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  bool closed = false;
  idle.read_until_close(&closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(lb.process().log().find("idle for"), std::string::npos) << lb.process().log();
  EXPECT_TRUE(busy.get("/"));
}

TEST_P(TcpRelayTest, AHalfCloseMidConnectionReachesTheTargetAfterTheLastByte) {
  DemoBackend backend("b");
  Ballast lb(tcp_config({backend.port()}, "    relay: " + GetParam() + "\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  Client c(lb.port(), 5000);
  ASSERT_TRUE(c.get("/"));  // the pair is relayed (in the kernel, with relay: kernel)
  // A request and the client's FIN right behind it: the target answers it, sees the end,
  // and closes; the client reads the answer, then the end.
  ASSERT_TRUE(c.send_raw("GET /bytes/300000 HTTP/1.1\r\nHost: x\r\n\r\n"));
  c.shutdown_write();
  auto r = c.read_response();
  ASSERT_TRUE(r) << lb.process().log();
  EXPECT_EQ(r->body.size(), 300000u);
  bool closed = false;
  c.read_until_close(&closed);
  EXPECT_TRUE(closed) << lb.process().log();
}

// A target that sends 8 MB as 4,000-byte messages, each on its own (short reads for the
// relay), to one connection, then closes. Byte i of the stream is i % 251.
class TricklingTarget {
 public:
  static constexpr size_t kMessages = 2000;
  static constexpr size_t kMessageSize = 4000;

  TricklingTarget() : port_(free_port()) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr = loopback_sockaddr(port_);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(listener_, 4) != 0) {
      ADD_FAILURE() << "cannot listen on " << port_;
      return;
    }
    thread_ = std::thread([this] { serve(); });
  }
  ~TricklingTarget() {
    ::shutdown(listener_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    for (auto& t : streams_) t.join();
    ::close(listener_);
  }
  uint16_t port() const { return port_; }

 private:
  // Every connection gets the stream (ballast's readiness probe makes one too).
  void serve() {
    for (int fd; (fd = ::accept(listener_, nullptr, nullptr)) >= 0;) {
      streams_.emplace_back([this, fd] { stream(fd); });
    }
  }

  void stream(int fd) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char message[kMessageSize];
    size_t at = 0;
    for (size_t m = 0; m < kMessages; ++m) {
      for (char& c : message) c = static_cast<char>(at++ % 251);
      if (::send(fd, message, sizeof(message), MSG_NOSIGNAL) != sizeof(message)) break;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ::close(fd);
  }

  uint16_t port_;
  int listener_ = -1;
  std::thread thread_;
  std::vector<std::thread> streams_;  // (only the accepting thread adds to it)
};

// The client reads nothing for a second while the target trickles 8 MB, more than the
// client's socket buffers and ballast's send buffer to it hold: the relay's destination
// fills. ballast's relay keeps what a send did not take in its pipe; the kernel
// relay stops at its budget and hands back once the client has taken what it forwarded.
// Either way every byte arrives, in order, then the end.
TEST_P(TcpRelayTest, AReaderThatStallsGetsEveryByteOfATrickleInOrder) {
  TricklingTarget target;
  Ballast lb(tcp_config({target.port()}, "    relay: " + GetParam() + "\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  int fd = connect_from("127.0.0.1", lb.port());
  ASSERT_GE(fd, 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  std::string got;
  char buf[65536];
  for (ssize_t n; (n = recv(fd, buf, sizeof(buf), 0)) > 0;) got.append(buf, static_cast<size_t>(n));
  close(fd);
  ASSERT_EQ(got.size(), TricklingTarget::kMessages * TricklingTarget::kMessageSize)
      << lb.process().log();
  size_t wrong = 0;
  for (size_t i = 0; i < got.size(); ++i) wrong += got[i] != static_cast<char>(i % 251);
  EXPECT_EQ(wrong, 0u);
}

TEST_P(TcpRelayTest, ATargetThatDiesClosesItsClientsConnection) {
  DemoBackend backend("b");
  Ballast lb(tcp_config({backend.port()}, "    relay: " + GetParam() + "\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  Client c(lb.port(), 5000);
  ASSERT_TRUE(c.get("/"));
  backend.process().signal(SIGKILL);
  bool closed = false;
  c.read_until_close(&closed);
  EXPECT_TRUE(closed) << lb.process().log();
}

INSTANTIATE_TEST_SUITE_P(Relays, TcpRelayTest, ::testing::Values("kernel", "user"),
                         [](const auto& param_info) { return param_info.param; });

// Where the kernel refuses the eBPF program (here: ballast runs without CAP_BPF,
// CAP_SYS_ADMIN and CAP_NET_ADMIN), ballast says so once and relays in user space.
TEST(TcpListenerTest, WithoutTheKernelRelayBallastRelaysItself) {
  DemoBackend backend("b");
  std::string dir = make_temp_dir();
  const uint16_t port = free_port();
  const uint16_t admin = free_port();
  write_file(dir + "/ballast.yaml",
             replace_all(tcp_config({backend.port()}), "${PORT}", std::to_string(port)) +
                 "admin: { bind: 127.0.0.1:" + std::to_string(admin) + " }\n");
  Process lb({"/sbin/capsh", "--drop=cap_bpf,cap_sys_admin,cap_net_admin", "--", "-c",
              std::string("exec ") + BALLAST_BINARY + " run -c " + dir + "/ballast.yaml"},
             dir + "/ballast.log");
  ASSERT_TRUE(wait_for_port(port) && wait_for_port(admin)) << lb.log();
  for (int i = 0; i < 3; ++i) {
    auto r = http_get(port, "/");
    ASSERT_TRUE(r) << lb.log();
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_NE(lb.log().find("kernel relay unavailable (loading the BPF program"), std::string::npos)
      << lb.log();
  EXPECT_EQ(
      metric_value(admin, "ballast_listener_kernel_relayed_connections_total{listener=\"db\"}"), 0);
  lb.signal(SIGTERM);
  lb.wait_exit(5000);
}

TEST(TcpListenerTest, ADeadTargetIsSkippedThenMarkedUnhealthy) {
  DemoBackend live("live");
  uint16_t dead = free_port();  // nothing listens there
  Ballast lb(tcp_config({live.port(), dead}, "",
                        "    retries: 1\n    health_check: { protocol: tcp, interval: 200ms, "
                        "timeout: 100ms, unhealthy_threshold: 2 }\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  // Before the checks notice, a refused connect moves on to the other target.
  for (int i = 0; i < 10; ++i) {
    auto r = http_get(lb.port(), "/");
    ASSERT_TRUE(r) << lb.process().log();
    EXPECT_EQ(r->header("x-ballast-instance"), "live");
  }
  EXPECT_TRUE(within(
      10, [&] { return target_state(lb.admin_port(), "pool", loopback(dead)) == "unhealthy"; }));
}

// haproxy in front of ballast sends the PROXY protocol (v2); ballast trusts it from
// 127.0.0.1 only, and the target sees the real client (127.0.0.7) in X-Forwarded-For.
TEST(TcpListenerTest, AcceptsTheProxyProtocolFromHaproxyOnly) {
  DemoBackend backend("b");
  Ballast lb(proxy_config({backend.port()}, "",
                          "    accept_proxy_protocol: { from: [ 127.0.0.1/32 ] }\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  std::string dir = make_temp_dir();
  uint16_t front = free_port();
  write_file(dir + "/haproxy.cfg",
             "global\n  maxconn 100\ndefaults\n  mode tcp\n  timeout connect 5s\n"
             "  timeout client 30s\n  timeout server 30s\n"
             "frontend f\n  bind 127.0.0.1:" +
                 std::to_string(front) +
                 "\n  default_backend ballast\n"
                 "backend ballast\n  server b " +
                 loopback(lb.port()) + " send-proxy-v2\n");
  Process haproxy({"/usr/sbin/haproxy", "-db", "-f", dir + "/haproxy.cfg"}, dir + "/haproxy.log");
  ASSERT_TRUE(wait_for_port(front)) << haproxy.log();

  // haproxy listens before it is ready to pass a connection on (a run under load once got an
  // empty reply): ask until an answer comes, then check it.
  std::string reply;
  within(5, [&] {
    reply = exchange_from("127.0.0.7", front,
                          "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    return !reply.empty();
  });
  EXPECT_NE(reply.find("X-Forwarded-For: 127.0.0.7\n"), std::string::npos)
      << reply << lb.process().log();

  // The same header straight from a client ballast does not trust is not a header.
  reply = exchange_from(
      "127.0.0.7", lb.port(),
      "PROXY TCP4 203.0.113.1 127.0.0.1 1 2\r\nGET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
  // A trusted peer that sends no header is refused.
  reply = exchange_from("127.0.0.1", lb.port(), "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
  EXPECT_NE(reply.find("invalid PROXY protocol header"), std::string::npos) << reply;
}

// ballast in front of nginx sends the PROXY protocol, v1 and v2; nginx reads the client.
TEST(TcpListenerTest, SendsTheProxyProtocolToNginx) {
  std::string dir = make_temp_dir();
  uint16_t nginx_port = free_port();
  write_file(
      dir + "/nginx.conf",
      "master_process off;\ndaemon off;\npid " + dir + "/nginx.pid;\nerror_log " + dir +
          "/error.log warn;\nevents { worker_connections 64; }\nhttp {\n  access_log off;\n"
          "  client_body_temp_path " +
          dir +
          "/body;\n"
          "  server {\n    listen 127.0.0.1:" +
          std::to_string(nginx_port) +
          " proxy_protocol;\n"
          "    location / { return 200 \"client=$proxy_protocol_addr:$proxy_protocol_port\\n\"; }\n"
          "  }\n}\n");
  Process nginx({"/usr/sbin/nginx", "-p", dir, "-c", dir + "/nginx.conf"}, dir + "/nginx.log");
  ASSERT_TRUE(wait_for_port(nginx_port)) << nginx.log();
  for (const char* version : {"v1", "v2"}) {
    Ballast lb(tcp_config({nginx_port}, std::string("    send_proxy_protocol: ") + version + "\n"));
    ASSERT_TRUE(lb.ready()) << lb.process().log();
    std::string reply = exchange_from("127.0.0.9", lb.port(), "GET / HTTP/1.0\r\n\r\n");
    EXPECT_NE(reply.find("client=127.0.0.9:"), std::string::npos) << version << ": " << reply;
  }
}

TEST(TcpListenerTest, ConfigurationSaysWhatATcpListenerCannotDo) {
  std::string dir = make_temp_dir();
  write_file(
      dir + "/bad.yaml",
      "listeners:\n  - name: db\n    bind: 127.0.0.1:5432\n    protocol: tcp\n"
      "    rules:\n      - match: { path_prefix: /x }\n        forward: { target_group: g }\n"
      "  - name: web\n    bind: 127.0.0.1:8080\n    send_proxy_protocol: v3\n"
      "    accept_proxy_protocol: { from: [ 10.0.0.0/40 ] }\n"
      "    rules:\n      - forward: { target_group: g }\n"
      "target_groups:\n  - { name: g, targets: [ { address: 127.0.0.1:1 } ] }\n");
  Process check({BALLAST_BINARY, "check", "-c", dir + "/bad.yaml"}, dir + "/check.log");
  EXPECT_EQ(check.wait_exit(10000), 1);
  std::string out = check.log();
  EXPECT_NE(out.find("listeners[0].rules: a tcp listener forwards every connection"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("unknown PROXY protocol version \"v3\""), std::string::npos) << out;
  EXPECT_NE(out.find("prefix length 40 is longer than the 32 bits"), std::string::npos) << out;
}

}  // namespace
}  // namespace ballast::test
