// TLS from ballast to its targets: nginx terminates TLS as the target; ballast verifies its
// certificate against a CA with SNI, reuses connections, presents a client certificate when
// asked (mutual TLS), and checks health over TLS.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/http_client.h"
#include "support/load_loop.h"
#include "support/test_env.h"
#include "support/test_pki.h"

namespace ballast::test {
namespace {

// nginx on TLS, answering with what it saw: the SNI, the client certificate, the
// connection's request count (keep-alive reuse shows as more than one).
class TlsTarget {
 public:
  TlsTarget(const std::string& dir, const TestPki::Issued& cert, const std::string& client_ca = "")
      : port_(free_port()) {
    std::string verify = client_ca.empty() ? ""
                                           : "    ssl_client_certificate " + client_ca +
                                                 ";\n    ssl_verify_client on;\n";
    write_file(dir + "/nginx.conf",
               "master_process off;\ndaemon off;\npid " + dir + "/nginx.pid;\nerror_log " + dir +
                   "/error.log warn;\nevents { worker_connections 256; }\nhttp {\n"
                   "  access_log off;\n  client_body_temp_path " +
                   dir +
                   "/body;\n"
                   "  server {\n    listen 127.0.0.1:" +
                   std::to_string(port_) +
                   " ssl;\n"
                   "    ssl_certificate " +
                   cert.cert + ";\n    ssl_certificate_key " + cert.key + ";\n" + verify +
                   "    location /health { return 200 \"ok\\n\"; }\n"
                   "    location / { return 200 \"sni=$ssl_server_name client=$ssl_client_s_dn "
                   "requests=$connection_requests proto=$http_x_forwarded_proto\\n\"; }\n"
                   "  }\n}\n");
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/sbin/nginx", "-p", dir, "-c", dir + "/nginx.conf"},
        dir + "/nginx.log");
    ready_ = wait_for_port(port_);
  }
  uint16_t port() const { return port_; }
  bool ready() const { return ready_; }

 private:
  uint16_t port_;
  bool ready_ = false;
  std::unique_ptr<Process> process_;
};

std::string tls_group_config(uint16_t target, const std::string& tls) {
  return "workers: 1\nlisteners:\n  - name: web\n    bind: 127.0.0.1:${PORT}\n"
         "    rules:\n      - forward: { target_group: secure }\n"
         "target_groups:\n  - name: secure\n    tls: " +
         tls + "\n    targets: [ { address: " + loopback(target) + " } ]\n";
}

class UpstreamTlsTest : public ::testing::Test {
 protected:
  UpstreamTlsTest() : dir_(make_temp_dir()), pki_(dir_) {}
  std::string dir_;
  TestPki pki_;
};

TEST_F(UpstreamTlsTest, VerifiesTheTargetAndReusesItsConnections) {
  auto cert = pki_.issue("backend", {"backend.internal"});
  TlsTarget target(dir_, cert);
  ASSERT_TRUE(target.ready());
  Ballast lb(tls_group_config(target.port(),
                              "{ ca: " + pki_.ca_file() + ", server_name: backend.internal }"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  Client c(lb.port());
  std::string last;
  for (int i = 0; i < 5; ++i) {
    auto r = c.get("/");
    ASSERT_TRUE(r) << lb.process().log();
    ASSERT_EQ(r->status, 200) << r->body;
    last = r->body;
  }
  EXPECT_NE(last.find("sni=backend.internal"), std::string::npos) << last;
  EXPECT_NE(last.find("proto=http"), std::string::npos) << last;
  EXPECT_NE(last.find("requests=5"), std::string::npos)
      << "one TLS connection to the target served all five: " << last;
}

TEST_F(UpstreamTlsTest, ATargetWhoseCertificateDoesNotVerifyGets502WithTheReason) {
  auto cert = pki_.issue("backend", {"backend.internal"});
  TlsTarget target(dir_, cert);
  ASSERT_TRUE(target.ready());
  // The wrong name.
  {
    Ballast lb(tls_group_config(target.port(),
                                "{ ca: " + pki_.ca_file() + ", server_name: other.internal }"));
    ASSERT_TRUE(lb.ready()) << lb.process().log();
    auto r = http_get(lb.port(), "/");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 502);
    EXPECT_NE(r->body.find("hostname mismatch"), std::string::npos) << r->body;
  }
  // A CA that did not sign it.
  TestPki other(make_temp_dir(), "another CA");
  Ballast lb(tls_group_config(target.port(),
                              "{ ca: " + other.ca_file() + ", server_name: backend.internal }"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  auto r = http_get(lb.port(), "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  EXPECT_NE(r->body.find("certificate verify failed"), std::string::npos) << r->body;
}

TEST_F(UpstreamTlsTest, PresentsAClientCertificateWhenTheTargetAsks) {
  auto cert = pki_.issue("backend", {"backend.internal"});
  TestPki::Options client;
  client.client = true;
  auto ballast_cert = pki_.issue("ballast", {}, client);
  TlsTarget target(dir_, cert, pki_.ca_file());
  ASSERT_TRUE(target.ready());
  Ballast lb(tls_group_config(target.port(),
                              "{ ca: " + pki_.ca_file() +
                                  ", server_name: backend.internal, certificate: { cert: " +
                                  ballast_cert.cert + ", key: " + ballast_cert.key + " } }"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  auto r = http_get(lb.port(), "/");
  ASSERT_TRUE(r) << lb.process().log();
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find("client=CN=ballast,O=ballast tests"), std::string::npos) << r->body;
}

TEST_F(UpstreamTlsTest, HealthChecksGoOverTls) {
  auto cert = pki_.issue("backend", {"backend.internal"});
  TlsTarget target(dir_, cert);
  ASSERT_TRUE(target.ready());
  Ballast lb(tls_group_config(target.port(),
                              "{ ca: " + pki_.ca_file() + ", server_name: backend.internal }") +
             "    health_check: { path: /health, interval: 200ms, timeout: 150ms, "
             "healthy_threshold: 2 }\n");
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  EXPECT_TRUE(within(10, [&] {
    return target_state(lb.admin_port(), "secure", loopback(target.port())) == "healthy";
  })) << admin_call(lb.admin_port(), "GET", "/api/v1/target-groups/secure").body;
}

TEST_F(UpstreamTlsTest, ATcpListenerCannotForwardToATlsGroup) {
  write_file(dir_ + "/bad.yaml",
             "listeners:\n  - name: db\n    bind: 127.0.0.1:5432\n    protocol: tcp\n"
             "    rules:\n      - forward: { target_group: g }\n"
             "target_groups:\n  - name: g\n    tls: { verify: false }\n"
             "    targets: [ { address: 127.0.0.1:1 } ]\n");
  Process check({BALLAST_BINARY, "check", "-c", dir_ + "/bad.yaml"}, dir_ + "/check.log");
  EXPECT_EQ(check.wait_exit(10000), 1);
  EXPECT_NE(check.log().find("speaks TLS to its targets; a tcp listener relays bytes"),
            std::string::npos)
      << check.log();
}

}  // namespace
}  // namespace ballast::test
