// Automatic certificates end to end: Debian's pebble (Let's Encrypt's test ACME server) and
// its challenge test server started here on loopback, and a ballast that orders, proves,
// stores, serves and renews its certificate from it. Clients verify what they are served
// against the root pebble made for this run.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "support/http_client.h"
#include "support/load_loop.h"
#include "support/ports.h"
#include "support/process.h"
#include "support/test_env.h"
#include "support/test_pki.h"

namespace ballast::test {
namespace {

// pebble and pebble-challtestsrv on loopback. The challenge server is pebble's DNS: it
// answers 127.0.0.1 for every name, so pebble validates against ballast's listeners on
// `http_port` (HTTP-01) and `tls_port` (TLS-ALPN-01).
class Pebble {
 public:
  Pebble(const std::string& dir, int validity_s)
      : dir_(dir),
        acme_port_(free_port()),
        management_port_(free_port()),
        dns_port_(free_port()),
        dns_management_port_(free_port()),
        http_port_(free_port()),
        tls_port_(free_port()) {
    // pebble's own HTTPS certificate, from a throwaway CA.
    std::filesystem::create_directories(dir_ + "/pebble-ca");
    TestPki pki(dir_ + "/pebble-ca");
    TestPki::Issued own = pki.issue("localhost", {"localhost"});
    ca_file_ = pki.ca_file();
    write_file(dir_ + "/pebble.json",
               R"({"pebble": {"listenAddress": "127.0.0.1:)" + std::to_string(acme_port_) +
                   R"(", "managementListenAddress": "127.0.0.1:)" +
                   std::to_string(management_port_) + R"(", "certificate": ")" + own.cert +
                   R"(", "privateKey": ")" + own.key + R"(", "httpPort": )" +
                   std::to_string(http_port_) + R"(, "tlsPort": )" + std::to_string(tls_port_) +
                   R"(, "ocspResponderURL": "", "externalAccountBindingRequired": false,)"
                   R"( "certificateValidityPeriod": )" +
                   std::to_string(validity_s) + "}}\n");
    dns_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/pebble-challtestsrv", "-dns01",
                                 "127.0.0.1:" + std::to_string(dns_port_), "-management",
                                 "127.0.0.1:" + std::to_string(dns_management_port_), "-http01", "",
                                 "-https01", "", "-tlsalpn01", "", "-defaultIPv6", ""},
        dir_ + "/challtestsrv.log");
    // No random sleeps before validations; pebble still rejects 5% of nonces, which the
    // client must retry.
    pebble_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/env", "PEBBLE_VA_NOSLEEP=1", "pebble", "-config",
                                 dir_ + "/pebble.json", "-dnsserver",
                                 "127.0.0.1:" + std::to_string(dns_port_)},
        dir_ + "/pebble.log");
    // DNS answers (over UDP) once its management port listens: it starts that last.
    if (!wait_for_port(dns_management_port_)) {
      problem_ = "pebble-challtestsrv did not start";
    } else if (!wait_for_port(acme_port_) || !wait_for_port(management_port_)) {
      problem_ = "pebble did not start";
    } else if (run_shell("curl -sf --cacert " + ca_file_ + " https://localhost:" +
                             std::to_string(management_port_) + "/roots/0 -o " + dir_ + "/root.pem",
                         dir_ + "/curl.log", 10000) != 0) {
      // The root pebble made for this run, which what it issues chains to.
      problem_ = "pebble's root: " + read_file(dir_ + "/curl.log");
    }
  }
  bool ready() const { return problem_.empty(); }
  std::string directory() const {
    return "https://localhost:" + std::to_string(acme_port_) + "/dir";
  }
  const std::string& ca_file() const { return ca_file_; }  // for pebble's own HTTPS
  std::string root_file() const { return dir_ + "/root.pem"; }
  uint16_t http_port() const { return http_port_; }
  uint16_t tls_port() const { return tls_port_; }
  std::string log() const {
    return problem_ + "\n--- pebble:\n" + pebble_->log() + "--- pebble-challtestsrv:\n" +
           dns_->log();
  }

 private:
  std::string dir_;
  uint16_t acme_port_, management_port_, dns_port_, dns_management_port_, http_port_, tls_port_;
  std::string ca_file_;
  std::unique_ptr<Process> dns_;
  std::unique_ptr<Process> pebble_;
  std::string problem_;
};

// A TLS listener "site" on ${PORT} with `acme` lines (indented eight spaces), and a
// plain HTTP listener on `http_port` when it is not 0.
std::string acme_config(const Pebble& ca, const std::string& storage, uint16_t backend,
                        const std::string& acme_extra, uint16_t http_port) {
  std::string yaml = "workers: 2\nlisteners:\n";
  if (http_port != 0) {
    yaml += "  - name: plain\n    bind: 127.0.0.1:" + std::to_string(http_port) +
            "\n    rules:\n      - redirect: { location: \"https://#{host}#{path}\" }\n";
  }
  yaml +=
      "  - name: site\n    bind: 127.0.0.1:${PORT}\n    tls:\n      acme:\n"
      "        directory: " +
      ca.directory() +
      "\n        email: ops@example.test\n"
      "        storage: " +
      storage + "\n        ca: " + ca.ca_file() + "\n" + acme_extra +
      "    rules:\n      - forward: { target_group: app }\n"
      "target_groups:\n  - name: app\n    targets: [ { address: " +
      loopback(backend) + " } ]\n";
  return yaml;
}

TlsOptions verifying(const std::string& name, const Pebble& ca) {
  TlsOptions o;
  o.server_name = name;
  o.ca_file = ca.root_file();
  return o;
}

// A handshake for `name` that verifies against pebble's root (or why not).
TlsInfo handshake(uint16_t port, const std::string& name, const Pebble& ca) {
  Client c(port);
  c.start_tls(verifying(name, ca));
  return c.tls();
}

class AcmeTest : public ::testing::Test {
 protected:
  std::string dir_ = make_temp_dir();
  DemoBackend backend_{"b1"};
};

TEST_F(AcmeTest, ObtainsACertificateByHttp01StoresItAndServesItAfterARestart) {
  Pebble ca(dir_, 3600);
  ASSERT_TRUE(ca.ready()) << ca.log();
  std::string storage = dir_ + "/acme";
  std::string yaml =
      acme_config(ca, storage, backend_.port(),
                  "        names: [www.example.test, api.example.test]\n", ca.http_port());
  {
    Ballast lb(yaml, ca.tls_port());
    ASSERT_TRUE(lb.ready()) << lb.process().log();
    // Until the CA has issued one, a self-signed stand-in serves (clients refuse it); then
    // the CA's, for every name, without a restart.
    TlsInfo served;
    EXPECT_TRUE(within(30,
                       [&] {
                         served = handshake(lb.port(), "api.example.test", ca);
                         return served.ok;
                       }))
        << served.error << "\n"
        << lb.process().log() << ca.log();
    EXPECT_EQ(served.peer_cn, "www.example.test");
    EXPECT_TRUE(handshake(lb.port(), "www.example.test", ca).ok);
    Client c(lb.port());
    c.start_tls(verifying("www.example.test", ca));
    auto r = c.get("/");
    ASSERT_TRUE(r) << lb.process().log();
    EXPECT_EQ(r->status, 200);
    // Proved over the plain listener, whose redirect rule the challenge comes before.
    EXPECT_GE(
        metric_value(lb.admin_port(), "ballast_acme_challenges_answered_total{type=\"http-01\"}"),
        1);
    EXPECT_EQ(metric_value(lb.admin_port(),
                           "ballast_acme_challenges_answered_total{type=\"tls-alpn-01\"}"),
              0);
    EXPECT_EQ(metric_value(lb.admin_port(), "ballast_acme_certificates_issued_total"), 1);
    EXPECT_GT(metric_value(lb.admin_port(),
                           "ballast_acme_certificate_expiry_timestamp_seconds{listener=\"site\"}"),
              0);
    // The API says what is served and how ACME stands.
    AdminAnswer certs = admin_call(lb.admin_port(), "GET", "/api/v1/certificates");
    ASSERT_EQ(certs.status, 200) << certs.body;
    auto site = nlohmann::json::parse(certs.body)["listeners"][0];
    EXPECT_EQ(site["listener"], "site");
    EXPECT_EQ(site["certificates"][0]["names"],
              nlohmann::json::array({"www.example.test", "api.example.test"}));
    EXPECT_NE(site["certificates"][0]["file"].get<std::string>().find("/www.example.test.pem"),
              std::string::npos);
    EXPECT_EQ(site["acme"]["consecutive_failures"], 0);
    Process ctl({BALLAST_BINARY, "ctl", "--admin", loopback(lb.admin_port()), "certificates"},
                dir_ + "/ctl.log");
    EXPECT_EQ(ctl.wait_exit(10000), 0) << ctl.log();
    EXPECT_NE(ctl.log().find("www.example.test,api.example.test"), std::string::npos) << ctl.log();
    EXPECT_NE(ctl.log().find("ACME " + ca.directory() + ": next attempt "), std::string::npos)
        << ctl.log();
    // Renewal is planned a third of the lifetime before expiry, less at most a tenth of that.
    const auto& listed = site["certificates"][0];
    int64_t not_after = listed["not_after"].get<int64_t>();
    int64_t margin = (not_after - listed["not_before"].get<int64_t>()) / 3;
    int64_t next = site["acme"]["next_attempt"].get<int64_t>();
    EXPECT_EQ(site["acme"]["stored_not_after"].get<int64_t>(), not_after);
    EXPECT_LE(next, not_after - margin) << site;
    EXPECT_GE(next, not_after - margin - margin / 10 - 1) << site;
    Client plain(ca.http_port());
    auto other = plain.get("/.well-known/acme-challenge/not-a-token");
    ASSERT_TRUE(other);
    EXPECT_EQ(other->status, 301) << "a token ballast does not hold goes to the rules";
  }
  // The account and the certificate are on disk, readable by ballast's user only.
  std::string account =
      storage + "/" + std::filesystem::directory_iterator(storage)->path().filename().string();
  struct stat st {};
  ASSERT_EQ(::stat((account + "/account.key").c_str(), &st), 0) << account;
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((account + "/www.example.test.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Started again, ballast serves the stored certificate at once and orders nothing.
  Ballast again(yaml, ca.tls_port());
  ASSERT_TRUE(again.ready()) << again.process().log();
  TlsInfo served = handshake(again.port(), "www.example.test", ca);
  EXPECT_TRUE(served.ok) << served.error;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(metric_value(again.admin_port(), "ballast_acme_certificates_issued_total"), 0);
}

TEST_F(AcmeTest, ProvesByTlsAlpn01AndRenewsBeforeExpiryWithoutClosingConnections) {
  // Certificates valid 12 s: renewed a third before expiry, 8 s after issue.
  Pebble ca(dir_, 12);
  ASSERT_TRUE(ca.ready()) << ca.log();
  Ballast lb(
      acme_config(ca, dir_ + "/acme", backend_.port(),
                  "        names: [alpn.example.test]\n        challenges: [tls-alpn-01]\n", 0),
      ca.tls_port());
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  TlsInfo first;
  ASSERT_TRUE(within(30,
                     [&] {
                       first = handshake(lb.port(), "alpn.example.test", ca);
                       return first.ok;
                     }))
      << first.error << "\n"
      << lb.process().log() << ca.log();
  Client kept(lb.port());
  kept.start_tls(verifying("alpn.example.test", ca));
  ASSERT_TRUE(kept.get("/"));
  // The renewal comes through the reload path: a new certificate for new handshakes,
  // and the connection opened before it carries on.
  TlsInfo renewed;
  EXPECT_TRUE(within(30, [&] {
    renewed = handshake(lb.port(), "alpn.example.test", ca);
    return renewed.ok && renewed.peer_serial != first.peer_serial;
  })) << lb.process().log();
  auto r = kept.get("/");
  ASSERT_TRUE(r) << "the connection from before the renewal";
  EXPECT_EQ(r->status, 200);
  EXPECT_GE(metric_value(lb.admin_port(), "ballast_acme_certificates_issued_total"), 2);
  EXPECT_GE(
      metric_value(lb.admin_port(), "ballast_acme_challenges_answered_total{type=\"tls-alpn-01\"}"),
      1);
  EXPECT_EQ(
      metric_value(lb.admin_port(), "ballast_acme_challenges_answered_total{type=\"http-01\"}"), 0);
  EXPECT_TRUE(lb.process().running());
}

TEST_F(AcmeTest, ServesAStandInAndSaysWhyWhileTheCaIsUnreachable) {
  uint16_t closed = free_port();
  std::string yaml =
      "workers: 1\nlisteners:\n  - name: site\n    bind: 127.0.0.1:${PORT}\n    tls:\n"
      "      acme:\n        directory: https://localhost:" +
      std::to_string(closed) +
      "/dir\n"
      "        names: [down.example.test]\n        storage: " +
      dir_ +
      "/acme\n"
      "    rules:\n      - fixed_response: { status: 200, body: up }\n";
  Ballast lb(yaml);
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  Client c(lb.port());
  TlsOptions unverified;
  unverified.server_name = "down.example.test";
  c.start_tls(unverified);
  ASSERT_TRUE(c.tls().ok) << c.tls().error;
  EXPECT_EQ(c.tls().peer_cn, "down.example.test");
  auto r = c.get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "up");
  // A verifying client refuses the stand-in, as it should.
  Client verifying_client(lb.port());
  TlsOptions strict;
  strict.server_name = "down.example.test";
  strict.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  verifying_client.start_tls(strict);
  EXPECT_FALSE(verifying_client.tls().ok);
  EXPECT_TRUE(within(
      10, [&] { return metric_value(lb.admin_port(), "ballast_acme_failures_total") >= 1; }));
  EXPECT_EQ(metric_value(lb.admin_port(), "ballast_acme_consecutive_failures{listener=\"site\"}"),
            1);
  auto site = nlohmann::json::parse(
      admin_call(lb.admin_port(), "GET", "/api/v1/certificates").body)["listeners"][0];
  EXPECT_NE(site["certificates"][0]["file"].get<std::string>().find("stand-in"), std::string::npos)
      << site;
  EXPECT_NE(site["acme"]["last_error"].get<std::string>().find("connect to localhost:"),
            std::string::npos)
      << site;
  std::string log = lb.process().log();
  EXPECT_NE(log.find("self-signed stand-in serves"), std::string::npos) << log;
  EXPECT_NE(log.find("ACME: listener \"site\": connect to localhost:" + std::to_string(closed)),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("trying again in"), std::string::npos) << log;
}

}  // namespace
}  // namespace ballast::test
