// HTTP/2 from ballast to its targets (target_groups[].protocol_version: http2), with nginx
// as the target: h2c and TLS with ALPN h2, requests sharing connections as streams, bodies
// both ways past the flow-control windows, GOAWAY from a target that retires connections,
// and a target that does not speak HTTP/2.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "support/http_client.h"
#include "support/load_loop.h"
#include "support/test_env.h"
#include "support/test_pki.h"

namespace ballast::test {
namespace {

// nginx speaking HTTP/2 only: h2c by prior knowledge, or TLS offering h2. Its access log
// says, per request, which connection carried it and in which protocol; /dav/ stores what
// is PUT and serves it back.
class NginxH2Target {
 public:
  struct Options {
    const TestPki::Issued* tls = nullptr;  // null: h2c
    bool http2 = true;                     // false (with TLS): HTTP/1.1 only
    int keepalive_requests = 1000;         // then nginx retires the connection by GOAWAY
  };
  NginxH2Target(const std::string& dir, const Options& options) : dir_(dir), port_(free_port()) {
    std::string listen = "127.0.0.1:" + std::to_string(port_) + (options.tls ? " ssl" : "") +
                         (options.http2 ? " http2" : "");
    std::string tls = options.tls ? "    ssl_certificate " + options.tls->cert +
                                        ";\n    ssl_certificate_key " + options.tls->key + ";\n"
                                  : "";
    std::filesystem::create_directories(dir + "/www/dav");
    write_file(dir + "/nginx.conf",
               // The worker writes PUT bodies into the test's private directory.
               "user root;\nmaster_process off;\ndaemon off;\npid " + dir +
                   "/nginx.pid;\nerror_log " + dir +
                   "/error.log warn;\nevents { worker_connections 1024; }\nhttp {\n"
                   "  log_format h2 '$connection $server_protocol $request_method $uri $status';\n"
                   "  access_log " +
                   dir +
                   "/access.log h2;\n"
                   "  client_body_temp_path " +
                   dir +
                   "/body;\n"
                   "  keepalive_requests " +
                   std::to_string(options.keepalive_requests) +
                   ";\n"
                   "  server {\n    listen " +
                   listen + ";\n" + tls + "    root " + dir +
                   "/www;\n"
                   "    location /dav/ { dav_methods PUT; client_max_body_size 16m; }\n"
                   "    location /echo { return 200 \"proto=$server_protocol host=$host "
                   "scheme=$scheme xff=$http_x_forwarded_for\\n\"; }\n"
                   "  }\n}\n");
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/sbin/nginx", "-p", dir, "-c", dir + "/nginx.conf"},
        dir + "/nginx.log");
    ready_ = wait_for_port(port_);
  }
  uint16_t port() const { return port_; }
  bool ready() const { return ready_; }
  // The access log's lines so far (nginx writes each as its request ends).
  std::vector<std::string> log_lines() const {
    std::vector<std::string> lines;
    std::istringstream in(read_file(dir_ + "/access.log"));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  // Distinct connections that carried requests, and whether every request was HTTP/2.
  std::set<std::string> connections(bool* all_http2) const {
    std::set<std::string> seen;
    *all_http2 = true;
    for (const std::string& line : log_lines()) {
      std::istringstream fields(line);
      std::string connection, protocol;
      fields >> connection >> protocol;
      seen.insert(connection);
      if (protocol != "HTTP/2.0") *all_http2 = false;
    }
    return seen;
  }

 private:
  std::string dir_;
  uint16_t port_;
  bool ready_ = false;
  std::unique_ptr<Process> process_;
};

std::string h2_group_config(uint16_t target, const std::string& extra = "") {
  return "workers: 1\nlisteners:\n  - name: web\n    bind: 127.0.0.1:${PORT}\n"
         "    rules:\n      - forward: { target_group: app }\n"
         "target_groups:\n  - name: app\n    protocol_version: http2\n" +
         extra + "    targets: [ { address: " + loopback(target) + " } ]\n";
}

// nginx over TLS as "backend.internal", its certificate from a test CA, speaking HTTP/2 and
// HTTP/1.1 chosen by ALPN (HTTP/1.1 only when `http2` is false); group_tls() is the target
// group's lines that reach it.
struct NginxOverTls {
  explicit NginxOverTls(const std::string& dir, bool http2 = true)
      : pki(dir), cert(pki.issue("backend", {"backend.internal"})), target(dir, {&cert, http2}) {}
  std::string group_tls() const {
    return "    tls: { ca: " + pki.ca_file() + ", server_name: backend.internal }\n";
  }
  TestPki pki;
  TestPki::Issued cert;
  NginxH2Target target;
};

// A body that shows any byte out of place.
std::string patterned(size_t size) {
  std::string body(size, '\0');
  for (size_t i = 0; i < size; ++i) body[i] = static_cast<char>('a' + (i * 7 + i / 1000) % 26);
  return body;
}

class Http2UpstreamTest : public ::testing::Test {
 protected:
  Http2UpstreamTest() : dir_(make_temp_dir()) {}
  std::string dir_;
};

TEST_F(Http2UpstreamTest, ConcurrentRequestsShareOneConnectionAsStreams) {
  NginxH2Target target(dir_, {});
  ASSERT_TRUE(target.ready());
  Ballast lb(h2_group_config(target.port()));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  {
    LoadLoop load(lb.port(), 16, "/echo", 25);
    ASSERT_TRUE(load.wait_for_every_client(25)) << load.first_failure();
    EXPECT_EQ(load.failed(), 0) << load.first_failure();
    EXPECT_EQ(load.done(), 400);
  }
  Client c(lb.port());
  ASSERT_TRUE(c.send_raw("GET /echo HTTP/1.1\r\nHost: shop.test\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r) << lb.process().log();
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find("proto=HTTP/2.0 host=shop.test scheme=http xff=127.0.0.1"),
            std::string::npos)
      << r->body;
  bool all_http2 = false;
  std::set<std::string> connections = target.connections(&all_http2);
  EXPECT_TRUE(all_http2);
  // 16 clients at once on one worker: one connection takes them all (100 streams each).
  EXPECT_EQ(connections.size(), 1u) << "connections used: " << connections.size();
}

TEST_F(Http2UpstreamTest, BodiesGoBothWaysWholePastTheWindows) {
  NginxH2Target target(dir_, {});
  ASSERT_TRUE(target.ready());
  Ballast lb(h2_group_config(target.port()));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  std::string body = patterned(3 * 1024 * 1024 + 17);
  Client c(lb.port(), 30000);
  // With Content-Length.
  ASSERT_TRUE(c.send_raw("PUT /dav/big HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n" + body));
  auto put = c.read_response();
  ASSERT_TRUE(put) << lb.process().log();
  EXPECT_TRUE(put->status == 201 || put->status == 204) << put->status << " " << put->body;
  auto got = c.get("/dav/big");
  ASSERT_TRUE(got) << lb.process().log();
  ASSERT_EQ(got->status, 200);
  EXPECT_EQ(got->body.size(), body.size());
  EXPECT_TRUE(got->body == body) << "the body came back changed";
  // Chunked from the client: ballast sends the data as DATA frames, without the framing.
  std::string chunked;
  for (size_t at = 0; at < 200000; at += 50000)
    chunked += "c350\r\n" + body.substr(at, 50000) + "\r\n";
  chunked += "0\r\n\r\n";
  ASSERT_TRUE(c.send_raw(
      "PUT /dav/chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked));
  auto put2 = c.read_response();
  ASSERT_TRUE(put2) << lb.process().log();
  EXPECT_TRUE(put2->status == 201 || put2->status == 204) << put2->status << " " << put2->body;
  auto got2 = c.get("/dav/chunked");
  ASSERT_TRUE(got2);
  EXPECT_TRUE(got2->body == body.substr(0, 200000)) << got2->body.size();
  // HEAD: the head alone, with the length a GET would have.
  ASSERT_TRUE(c.send_raw("HEAD /dav/big HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto head = c.read_response(true, /*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("content-length"), std::to_string(body.size()));
  // And the connection still serves.
  auto after = c.get("/echo");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST_F(Http2UpstreamTest, ATargetThatRetiresConnectionsByGoawayLosesNoRequest) {
  NginxH2Target::Options options;
  options.keepalive_requests = 10;  // nginx says GOAWAY after 10 streams on a connection
  NginxH2Target target(dir_, options);
  ASSERT_TRUE(target.ready());
  Ballast lb(h2_group_config(target.port(), "    retries: 0\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  {
    LoadLoop load(lb.port(), 8, "/echo", 40);
    ASSERT_TRUE(load.wait_for_every_client(40)) << load.first_failure();
    EXPECT_EQ(load.failed(), 0) << load.first_failure() << "\n" << lb.process().log();
  }
  bool all_http2 = false;
  std::set<std::string> connections = target.connections(&all_http2);
  EXPECT_TRUE(all_http2);
  EXPECT_GE(connections.size(), 32u) << "each connection took at most 10 of the 320 requests";
}

TEST_F(Http2UpstreamTest, SpeaksHttp2OverTlsChosenByAlpn) {
  NginxOverTls nginx(dir_);
  NginxH2Target& target = nginx.target;
  ASSERT_TRUE(target.ready());
  Ballast lb(h2_group_config(target.port(), nginx.group_tls()));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  Client c(lb.port());
  for (int i = 0; i < 5; ++i) {
    auto r = c.get("/echo");
    ASSERT_TRUE(r) << lb.process().log();
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_NE(r->body.find("proto=HTTP/2.0"), std::string::npos) << r->body;
    EXPECT_NE(r->body.find("scheme=https"), std::string::npos) << r->body;
  }
  bool all_http2 = false;
  EXPECT_EQ(target.connections(&all_http2).size(), 1u);
  EXPECT_TRUE(all_http2);
}

TEST_F(Http2UpstreamTest, AReloadSwitchesTheProtocolUnderLoadWithoutAFailure) {
  NginxOverTls nginx(dir_);  // speaks both, chosen by ALPN
  NginxH2Target& target = nginx.target;
  ASSERT_TRUE(target.ready());
  const std::string tls = nginx.group_tls();
  const std::string http2 = h2_group_config(target.port(), tls);
  const std::string http1 = replace_all(http2, "    protocol_version: http2\n", "");
  Ballast lb(http1);
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  LoadLoop load(lb.port(), 4, "/echo");
  ASSERT_TRUE(load.wait_for_more(200)) << load.first_failure();
  for (int generation = 2; generation <= 5; ++generation) {
    lb.rewrite_config(generation % 2 == 0 ? http2 : http1);
    lb.process().signal(SIGHUP);
    ASSERT_TRUE(within(10, [&] { return config_generation(lb.admin_port()) == generation; }))
        << lb.process().log();
    ASSERT_TRUE(load.wait_for_every_client(50)) << load.first_failure();
  }
  load.stop();
  EXPECT_EQ(load.failed(), 0) << load.first_failure() << "\n" << lb.process().log();
  int h1 = 0, h2 = 0;
  for (const std::string& line : target.log_lines()) {
    if (line.find(" HTTP/2.0 ") != std::string::npos) ++h2;
    if (line.find(" HTTP/1.1 ") != std::string::npos) ++h1;
  }
  EXPECT_GT(h1, 0);
  EXPECT_GT(h2, 0);
}

// A TCP relay to `target` whose connects hang until open(): its listening queue (backlog 0)
// is kept full by a connection of its own, so the kernel drops a client's SYN and the client
// sends it again a second later, by when the relay may be open.
class GatedRelay {
 public:
  explicit GatedRelay(uint16_t target) : target_(target) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const uint16_t port = free_port();
    sockaddr_in a = loopback_sockaddr(port);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::listen(listen_fd_, 0) != 0) {
      return;
    }
    port_ = port;
    filler_ = connect_from("127.0.0.1", port_);
  }
  ~GatedRelay() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (int fd : {listen_fd_, filler_}) {
      if (fd >= 0) ::close(fd);
    }
  }
  GatedRelay(const GatedRelay&) = delete;
  GatedRelay& operator=(const GatedRelay&) = delete;
  bool ready() const { return port_ != 0 && filler_ >= 0; }
  uint16_t port() const { return port_; }
  // Frees the queue and relays the next connection to the target, for up to 20 s.
  void open() {
    thread_ = std::thread([this] { relay(); });
  }

 private:
  void relay() {
    ::close(::accept(listen_fd_, nullptr, nullptr));  // the filler
    pollfd listening{listen_fd_, POLLIN, 0};
    if (::poll(&listening, 1, 5000) != 1) return;
    int client = ::accept(listen_fd_, nullptr, nullptr);
    int target = connect_from("127.0.0.1", target_);
    char buf[16384];
    for (int round = 0; round < 400 && !stop_ && client >= 0 && target >= 0; ++round) {
      pollfd fds[2] = {{client, POLLIN, 0}, {target, POLLIN, 0}};
      if (::poll(fds, 2, 50) < 0) break;
      bool ended = false;
      for (int i = 0; i < 2; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = ::recv(fds[i].fd, buf, sizeof(buf), 0);
        if (n <= 0 || ::send(fds[1 - i].fd, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) {
          ended = true;
        }
      }
      if (ended) break;
    }
    for (int fd : {client, target}) {
      if (fd >= 0) ::close(fd);
    }
  }

  uint16_t target_;
  int listen_fd_ = -1;
  int filler_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A reload turns HTTP/2 off while the connection that a request waits on is still
// connecting: the connection comes up, carries the request, then drains. (It used to close
// at once, leaving the request to its one replay of an unprocessed request; a second reload
// during that replay answered 502 "closing".)
TEST_F(Http2UpstreamTest, AConnectionStillConnectingAtAReloadCarriesItsRequest) {
  NginxOverTls nginx(dir_);
  NginxH2Target& target = nginx.target;
  ASSERT_TRUE(target.ready());
  GatedRelay gate(target.port());
  ASSERT_TRUE(gate.ready());
  const std::string tls = nginx.group_tls();
  const std::string http2 = h2_group_config(gate.port(), tls);
  Ballast lb(http2);
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  std::optional<Response> answer;
  std::thread client([&] { answer = http_get(lb.port(), "/echo"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // its SYN was dropped
  lb.rewrite_config(replace_all(http2, "    protocol_version: http2\n", ""));
  lb.process().signal(SIGHUP);
  EXPECT_TRUE(within(10, [&] { return config_generation(lb.admin_port()) == 2; }))
      << lb.process().log();
  gate.open();
  client.join();
  ASSERT_TRUE(answer) << lb.process().log();
  EXPECT_EQ(answer->status, 200) << answer->body << lb.process().log();
  bool over_h2 = false;
  for (const std::string& line : target.log_lines()) {
    if (line.find(" HTTP/2.0 ") != std::string::npos) over_h2 = true;
  }
  EXPECT_TRUE(over_h2) << "the request went on the HTTP/2 connection it was given";
}

TEST_F(Http2UpstreamTest, ATargetThatDoesNotChooseH2Gets502WithTheReason) {
  NginxOverTls nginx(dir_, /*http2=*/false);
  NginxH2Target& target = nginx.target;
  ASSERT_TRUE(target.ready());
  Ballast lb(h2_group_config(target.port(), nginx.group_tls()));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  auto r = http_get(lb.port(), "/echo");
  ASSERT_TRUE(r) << lb.process().log();
  EXPECT_EQ(r->status, 502);
  EXPECT_NE(r->body.find("does not speak HTTP/2 (ALPN h2)"), std::string::npos) << r->body;
}

}  // namespace
}  // namespace ballast::test
