// TLS termination end to end: a ballast process with TLS listeners, certificates from a
// throwaway CA made with openssl, and OpenSSL clients that verify what they are served.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/thread_annotations.h"
#include "support/http_client.h"
#include "support/load_loop.h"
#include "support/test_env.h"
#include "support/test_pki.h"

namespace ballast::test {
namespace {

using nlohmann::json;

// `certificates:` entries for a listener.
std::string cert_entry(const TestPki::Issued& c, const std::string& extra = "") {
  return "          - { cert: " + c.cert + ", key: " + c.key + extra + " }\n";
}

// One TLS listener in front of `backend`; `tls_extra` lines are indented by six spaces.
std::string tls_config(uint16_t backend, const std::string& certificates,
                       const std::string& tls_extra = "", int workers = 2) {
  return "workers: " + std::to_string(workers) +
         "\nlisteners:\n  - name: site\n    bind: 127.0.0.1:${PORT}\n    tls:\n"
         "      certificates:\n" +
         certificates + tls_extra +
         "    rules:\n      - forward: { target_group: app }\n"
         "target_groups:\n  - name: app\n    targets: [ { address: " +
         loopback(backend) + " } ]\n";
}

TlsOptions verifying(const std::string& name, const TestPki& pki) {
  TlsOptions o;
  o.server_name = name;
  o.ca_file = pki.ca_file();
  return o;
}

// A TLS connection to `port` that made its handshake (or says why not in tls()).
std::unique_ptr<Client> tls_connect(uint16_t port, const TlsOptions& options) {
  auto c = std::make_unique<Client>(port);
  c->start_tls(options);
  return c;
}

class TlsTest : public ::testing::Test {
 protected:
  TlsTest() : dir_(make_temp_dir()), pki_(dir_) {}
  std::string dir_;
  TestPki pki_;
  DemoBackend backend_{"b1"};
};

TEST_F(TlsTest, ServesTheCertificateTheClientNames) {
  auto api = pki_.issue("api", {"api.site.test"});
  auto apps = pki_.issue("apps", {"*.apps.site.test"});
  auto fallback = pki_.issue("fallback", {"site.test"});
  Ballast lb(tls_config(backend_.port(), cert_entry(api) + cert_entry(apps) +
                                             cert_entry(fallback, ", default: true")));
  ASSERT_TRUE(lb.ready()) << lb.process().log();

  auto c = tls_connect(lb.port(), verifying("api.site.test", pki_));
  ASSERT_TRUE(c->tls().ok) << c->tls().error;
  EXPECT_EQ(c->tls().peer_cn, "api");
  c = tls_connect(lb.port(), verifying("shop.apps.site.test", pki_));
  ASSERT_TRUE(c->tls().ok) << c->tls().error;
  EXPECT_EQ(c->tls().peer_cn, "apps");
  // Unknown names and clients without SNI get the default certificate...
  TlsOptions unverified;
  unverified.server_name = "nobody.test";
  EXPECT_EQ(tls_connect(lb.port(), unverified)->tls().peer_cn, "fallback");
  unverified.server_name.clear();
  EXPECT_EQ(tls_connect(lb.port(), unverified)->tls().peer_cn, "fallback");
  // ...which a verifying client refuses for a name it does not cover: a wildcard covers
  // one label only.
  c = tls_connect(lb.port(), verifying("a.b.apps.site.test", pki_));
  EXPECT_FALSE(c->tls().ok);
  EXPECT_NE(c->tls().error.find("hostname mismatch"), std::string::npos) << c->tls().error;
}

TEST_F(TlsTest, NegotiatesByAlpnAndForwardsAsHttps) {
  auto site = pki_.issue("site", {"site.test"});
  Ballast lb(tls_config(backend_.port(), cert_entry(site),
                        "      hsts: { max_age: 365d, include_subdomains: true }\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  TlsOptions o = verifying("site.test", pki_);
  o.alpn = {"http/1.1"};
  auto c = tls_connect(lb.port(), o);
  ASSERT_TRUE(c->tls().ok) << c->tls().error;
  EXPECT_EQ(c->tls().alpn, "http/1.1");
  EXPECT_EQ(c->tls().version, "TLSv1.3");
  auto r = c->get("/echo", "X-Forwarded-Proto: http\r\n");
  ASSERT_TRUE(r) << lb.process().log();
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("X-Forwarded-Proto: https\n"), std::string::npos) << r->body;
  EXPECT_EQ(r->body.find("X-Forwarded-Proto: http\n"), std::string::npos) << r->body;
  EXPECT_EQ(r->header("strict-transport-security"), "max-age=31536000; includeSubDomains");
  // Keep-alive through TLS: more requests on the same connection.
  for (int i = 0; i < 20; ++i) {
    auto again = c->get("/");
    ASSERT_TRUE(again) << i;
    EXPECT_EQ(again->status, 200);
  }
  // A client that offers both gets HTTP/2 (http2_test.cc speaks it).
  o.alpn = {"http/1.1", "h2"};
  c = tls_connect(lb.port(), o);
  ASSERT_TRUE(c->tls().ok) << c->tls().error;
  EXPECT_EQ(c->tls().alpn, "h2");
  // One that offers neither still gets in, without ALPN, and speaks HTTP/1.1.
  o.alpn = {"spdy/3"};
  c = tls_connect(lb.port(), o);
  ASSERT_TRUE(c->tls().ok) << c->tls().error;
  EXPECT_EQ(c->tls().alpn, "");
  ASSERT_TRUE(c->get("/"));
  // TLS 1.2 for older clients (the default intermediate policy).
  o.alpn.clear();
  o.max_version = TLS1_2_VERSION;
  c = tls_connect(lb.port(), o);
  ASSERT_TRUE(c->tls().ok) << c->tls().error;
  EXPECT_EQ(c->tls().version, "TLSv1.2");
  ASSERT_TRUE(c->get("/"));
  // Plain HTTP to a TLS port is not answered as HTTP, and ballast stays up.
  Client plain(lb.port(), 3000);
  plain.send_raw("GET / HTTP/1.1\r\nHost: site.test\r\n\r\n");
  bool closed = false;
  EXPECT_EQ(plain.read_until_close(&closed).find("HTTP/1.1 200"), std::string::npos);
  EXPECT_TRUE(within(5, [&] {
    return metric_value(lb.admin_port(),
                        "ballast_listener_tls_handshake_failures_total{listener=\"site\"}") >= 1;
  }));
  EXPECT_TRUE(tls_connect(lb.port(), verifying("site.test", pki_))->get("/"));
}

// Resumption works from worker to worker: tickets are sealed with keys the whole process
// shares, and session IDs live in one cache.
TEST_F(TlsTest, ResumesSessionsOnAnyWorker) {
  auto site = pki_.issue("site", {"site.test"});
  Ballast lb(tls_config(backend_.port(), cert_entry(site)));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  for (int version : {0, TLS1_2_VERSION}) {
    SCOPED_TRACE(version == 0 ? "TLS 1.3 tickets" : "TLS 1.2 tickets");
    TlsOptions o = verifying("site.test", pki_);
    o.max_version = version;
    std::shared_ptr<SSL_SESSION> session;
    {
      auto first = tls_connect(lb.port(), o);
      ASSERT_TRUE(first->get("/"));  // TLS 1.3 tickets come after the handshake
      session = first->tls_session();
    }
    ASSERT_TRUE(session);
    o.session = session;
    int resumed = 0;
    for (int i = 0; i < 12; ++i) {
      auto c = tls_connect(lb.port(), o);
      ASSERT_TRUE(c->tls().ok) << c->tls().error;
      resumed += c->tls().resumed ? 1 : 0;
      ASSERT_TRUE(c->get("/"));
    }
    EXPECT_EQ(resumed, 12);
  }
  EXPECT_TRUE(within(5, [&] {
    return metric_value(lb.admin_port(), "ballast_listener_tls_resumed_total{listener=\"site\"}") >=
           24;
  }));
}

TEST_F(TlsTest, ClientsRefuseAnExpiredCertificate) {
  TestPki::Options expired;
  expired.days = -1;
  auto old = pki_.issue("old", {"site.test"}, expired);
  Ballast lb(tls_config(backend_.port(), cert_entry(old)));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  auto c = tls_connect(lb.port(), verifying("site.test", pki_));
  EXPECT_FALSE(c->tls().ok);
  EXPECT_NE(c->tls().error.find("certificate has expired"), std::string::npos) << c->tls().error;
  EXPECT_NE(lb.process().log().find("expired at"), std::string::npos)
      << "ballast warns about it when it loads it\n"
      << lb.process().log();
}

TEST_F(TlsTest, MutualTlsPassesOnlyTheVerifiedSubject) {
  auto site = pki_.issue("site", {"site.test"});
  TestPki::Options client;
  client.client = true;
  auto alice = pki_.issue("alice", {}, client);
  TestPki other_ca(make_temp_dir(), "another CA");
  auto mallory = other_ca.issue("mallory", {}, client);
  Ballast lb(tls_config(backend_.port(), cert_entry(site),
                        "      client_certificates: { ca: " + pki_.ca_file() + " }\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();

  TlsOptions o = verifying("site.test", pki_);
  o.cert_file = alice.cert;
  o.key_file = alice.key;
  auto c = tls_connect(lb.port(), o);
  ASSERT_TRUE(c->tls().ok) << c->tls().error;
  auto r = c->get("/echo", "X-Client-Cert-Subject: CN=admin\r\n");
  ASSERT_TRUE(r) << lb.process().log();
  EXPECT_NE(r->body.find("X-Client-Cert-Subject: CN=alice,O=ballast tests\n"), std::string::npos)
      << r->body;
  EXPECT_EQ(r->body.find("CN=admin"), std::string::npos) << "a client's own header is dropped";

  // Without a certificate, or with one from another CA, no request gets through. (In
  // TLS 1.3 the client learns it at its first read: its certificate goes after the
  // server's Finished.)
  for (const auto& who : {std::string(), std::string("mallory")}) {
    TlsOptions bad = verifying("site.test", pki_);
    if (!who.empty()) {
      bad.cert_file = mallory.cert;
      bad.key_file = mallory.key;
    }
    auto refused = tls_connect(lb.port(), bad);
    EXPECT_FALSE(refused->tls().ok && refused->get("/echo")) << who;
  }
}

TEST_F(TlsTest, StaplesTheConfiguredOcspResponse) {
  auto site = pki_.issue("site", {"site.test"});
  std::string ocsp = pki_.ocsp_response_for(site);
  Ballast lb(tls_config(backend_.port(), cert_entry(site, ", ocsp: " + ocsp)));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  TlsOptions o = verifying("site.test", pki_);
  o.ask_ocsp = true;
  auto c = tls_connect(lb.port(), o);
  ASSERT_TRUE(c->tls().ok) << c->tls().error;
  EXPECT_GT(c->tls().ocsp_bytes, 100u);
  EXPECT_EQ(c->tls().ocsp_bytes, static_cast<size_t>(std::filesystem::file_size(ocsp)));
}

// New connections handshake in a loop (full handshakes and resumed ones) while the
// certificate files change and ballast reloads them, by SIGHUP and by the API; a
// keep-alive connection opened before stays open through it all.
TEST_F(TlsTest, CertificateReloadsUnderLoadFailNoHandshake) {
  const std::string cert = dir_ + "/live.pem", key = dir_ + "/live.key";
  auto install = [&](const TestPki::Issued& c) {
    // Written beside and renamed over, as a deployment tool (or certbot) does.
    std::filesystem::copy_file(c.cert, cert + ".new",
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(c.key, key + ".new",
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::rename(key + ".new", key);
    std::filesystem::rename(cert + ".new", cert);
  };
  std::vector<TestPki::Issued> versions;
  for (int v = 0; v < 2; ++v)
    versions.push_back(pki_.issue("site v" + std::to_string(v), {"site.test"}));
  install(versions[0]);
  Ballast lb(tls_config(backend_.port(), "          - { cert: " + cert + ", key: " + key + " }\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();

  auto kept = tls_connect(lb.port(), verifying("site.test", pki_));
  ASSERT_TRUE(kept->get("/"));

  std::atomic<bool> stop{false};
  std::atomic<int> handshakes{0}, failures{0};
  core::Mutex mu;
  std::string first_failure;
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&, t] {
      TlsOptions o = verifying("site.test", pki_);
      for (int i = 0; i < 100000 && !stop; ++i) {
        Client c(lb.port(), 5000);
        bool ok = c.start_tls(o);
        std::optional<Response> r = ok ? c.get("/") : std::nullopt;
        if (!ok || !r || r->status != 200) {
          ++failures;
          core::MutexLock lock(mu);
          if (first_failure.empty())
            first_failure = !ok ? c.tls().error
                            : r ? "status " + std::to_string(r->status)
                                : "no answer";
          continue;
        }
        ++handshakes;
        // One client in three resumes: reloads must not break resumption either.
        if (t == 0) o.session = c.tls_session();
      }
    });
  }
  // Stops and joins the clients however the test ends (a failed ASSERT returns early).
  struct Joiner {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~Joiner() {
      stop = true;
      for (auto& t : threads)
        if (t.joinable()) t.join();
    }
  } joiner{stop, clients};
  auto served_cn = [&] {
    auto c = tls_connect(lb.port(), verifying("site.test", pki_));
    return c->tls().peer_cn;
  };
  for (int i = 1; i <= 10; ++i) {
    install(versions[static_cast<size_t>(i % 2)]);
    int before = handshakes;
    if (i % 2 == 0) {
      ASSERT_EQ(admin_call(lb.admin_port(), "POST", "/api/v1/reload").status, 200);
    } else {
      lb.process().signal(SIGHUP);
    }
    ASSERT_TRUE(within(10, [&] { return config_generation(lb.admin_port()) == i + 1; }))
        << lb.process().log();
    // The workers take the new configuration right after the controller counts it.
    const std::string expected = "site v" + std::to_string(i % 2);
    EXPECT_TRUE(within(5, [&] { return served_cn() == expected; })) << lb.process().log();
    ASSERT_TRUE(within(20, [&] { return handshakes >= before + 100; }));
  }
  // A broken certificate file: the reload is refused, says which file and why, and the
  // certificate in use stays.
  write_file(cert, "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n");
  AdminAnswer refused = admin_call(lb.admin_port(), "POST", "/api/v1/reload");
  EXPECT_NE(refused.status, 200);
  EXPECT_NE(refused.body.find(cert), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("tls.certificates[0]"), std::string::npos) << refused.body;
  EXPECT_EQ(served_cn(), "site v0");
  int before = handshakes;
  ASSERT_TRUE(within(20, [&] { return handshakes >= before + 100; }));
  stop = true;
  for (auto& t : clients) t.join();

  EXPECT_EQ(failures.load(), 0) << first_failure << "\n" << lb.process().log();
  EXPECT_GT(handshakes.load(), 1000);
  auto still = kept->get("/");
  ASSERT_TRUE(still) << "the keep-alive connection from before the reloads still serves";
  EXPECT_EQ(still->status, 200);
}

TEST_F(TlsTest, ARedirectRuleSendsHttpToHttps) {
  auto site = pki_.issue("site", {"site.test"});
  const uint16_t https = free_port();
  Ballast lb(
      "listeners:\n"
      "  - name: plain\n    bind: 127.0.0.1:${PORT}\n    rules:\n"
      "      - redirect: { location: 'https://#{host}:" +
      std::to_string(https) +
      "#{path}?#{query}', status: 301 }\n"
      "  - name: site\n    bind: " +
      loopback(https) + "\n    tls:\n      certificates:\n" + cert_entry(site) +
      "    rules:\n      - forward: { target_group: app }\n"
      "target_groups:\n  - name: app\n    targets: [ { address: " +
      loopback(backend_.port()) + " } ]\n");
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  auto r = http_get(lb.port(), "/a/b?x=1");
  ASSERT_TRUE(r) << lb.process().log();
  EXPECT_EQ(r->status, 301);
  EXPECT_EQ(r->header("location"), "https://x:" + std::to_string(https) + "/a/b?x=1");
  auto c = tls_connect(https, verifying("site.test", pki_));
  ASSERT_TRUE(c->tls().ok) << c->tls().error;
  ASSERT_TRUE(c->get("/a/b?x=1"));
}

TEST_F(TlsTest, CheckSaysWhichCertificateEntryIsBrokenAndWhy) {
  auto a = pki_.issue("a", {"a.test"});
  auto b = pki_.issue("b", {"b.test"});
  const std::string path = dir_ + "/bad.yaml";
  write_file(path,
             "listeners:\n  - name: site\n    bind: 127.0.0.1:8443\n    tls:\n"
             "      certificates:\n"
             "        - { cert: " +
                 a.cert + ", key: " + a.key +
                 " }\n"
                 "        - { cert: " +
                 a.cert + ", key: " + b.key +
                 " }\n"
                 "        - { cert: missing.pem, key: missing.key }\n"
                 "      policy: ancient\n"
                 "    rules:\n      - fixed_response: { status: 200 }\n");
  Process check({BALLAST_BINARY, "check", "-c", path}, dir_ + "/check.log");
  EXPECT_EQ(check.wait_exit(10000), 1);
  std::string out = check.log();
  EXPECT_NE(out.find(path + ":7:11: listeners[0].tls.certificates[1]: key \"" + b.key +
                     "\" does not belong to certificate \"" + a.cert + "\""),
            std::string::npos)
      << out;
  // Relative paths are taken from the configuration file's directory.
  EXPECT_NE(out.find(path + ":8:11: listeners[0].tls.certificates[2]: certificate \"" + dir_ +
                     "/missing.pem\": cannot read it"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("unknown policy \"ancient\"; expected intermediate or modern"),
            std::string::npos)
      << out;
}

// testssl.sh audits the default listener (intermediate policy, a certificate as a public CA
// would issue it, an OCSP response stapled, HSTS): nothing it rates HIGH or CRITICAL. Its
// other findings are printed, for the record.
TEST_F(TlsTest, TestsslFindsNothingHighOrCritical) {
  TestPki::Options realistic;
  realistic.ocsp_url = "http://ocsp.site.test/";
  auto site = pki_.issue("site.test", {"site.test", "www.site.test"}, realistic);
  std::string ocsp = pki_.ocsp_response_for(site);
  Ballast lb(tls_config(backend_.port(), cert_entry(site, ", ocsp: " + ocsp),
                        "      hsts: { max_age: 365d, include_subdomains: true }\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  const std::string report = dir_ + "/testssl.json";
  int rc = run_shell("testssl --quiet --color 0 --warnings off --add-ca " + pki_.ca_file() +
                         " --ip 127.0.0.1 --jsonfile " + report +
                         " https://site.test:" + std::to_string(lb.port()),
                     dir_ + "/testssl.log", 300000);
  ASSERT_GE(rc, 0) << "testssl.sh did not finish within 5 minutes";
  std::ifstream in(report);
  json findings = json::parse(in, nullptr, false);
  ASSERT_TRUE(findings.is_array()) << "no report; testssl.sh said:\n"
                                   << std::ifstream(dir_ + "/testssl.log").rdbuf();
  std::string high, others;
  size_t checked = 0;
  for (const auto& f : findings) {
    std::string severity = f.value("severity", "");
    ++checked;
    std::string line = severity + " " + f.value("id", "") + ": " + f.value("finding", "") + "\n";
    if (severity == "HIGH" || severity == "CRITICAL")
      high += line;
    else if (severity != "OK" && severity != "INFO")
      others += line;
  }
  EXPECT_GT(checked, 100u) << "testssl.sh checked too little to mean anything";
  EXPECT_EQ(high, "") << "testssl.sh rated these HIGH or CRITICAL";
  std::cout << "testssl.sh: " << checked << " checks; below OK and not HIGH:\n" << others;
}

}  // namespace
}  // namespace ballast::test
