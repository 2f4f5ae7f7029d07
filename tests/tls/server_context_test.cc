// Handshakes against a ServerContext in memory (a BIO pair per connection, both ends
// driven in turn): SNI selection, ALPN, policies, and resumption across ticket-key
// rotations.
#include "tls/server_context.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include "support/test_env.h"
#include "support/test_pki.h"

namespace ballast::tls {
namespace {

using test::TestPki;

struct ClientHello {
  std::string server_name;
  std::string alpn_wire;  // length-prefixed list, empty: none
  SSL_SESSION* session = nullptr;
  int max_version = 0;
};

struct Outcome {
  bool ok = false;
  std::string peer_cn;
  std::string alpn;
  std::string version;
  bool resumed = false;
  std::shared_ptr<SSL_SESSION> session;
};

ClientHello hello_for(std::string name, std::string alpn_wire = "", SSL_SESSION* session = nullptr,
                      int max_version = 0) {
  ClientHello h;
  h.server_name = std::move(name);
  h.alpn_wire = std::move(alpn_wire);
  h.session = session;
  h.max_version = max_version;
  return h;
}

Outcome handshake(const ServerContext& server, const ClientHello& hello) {
  Outcome out;
  SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
  if (hello.max_version != 0) SSL_CTX_set_max_proto_version(cctx, hello.max_version);
  SSL* c = SSL_new(cctx);
  SslPtr s = server.new_connection();
  BIO *cb = nullptr, *sb = nullptr;
  BIO_new_bio_pair(&cb, 0, &sb, 0);
  SSL_set_bio(c, cb, cb);
  SSL_set_bio(s.get(), sb, sb);
  SSL_set_connect_state(c);
  if (!hello.server_name.empty()) {
    // SSL_set_tlsext_host_name, without the macro's C cast.
    SSL_ctrl(c, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(hello.server_name.c_str()));
  }
  if (!hello.alpn_wire.empty()) {
    SSL_set_alpn_protos(c, reinterpret_cast<const unsigned char*>(hello.alpn_wire.data()),
                        static_cast<unsigned>(hello.alpn_wire.size()));
  }
  if (hello.session != nullptr) SSL_set_session(c, hello.session);
  for (int i = 0; i < 50 && !(SSL_is_init_finished(c) && SSL_is_init_finished(s.get())); ++i) {
    SSL_do_handshake(c);
    SSL_do_handshake(s.get());
  }
  out.ok = SSL_is_init_finished(c) && SSL_is_init_finished(s.get());
  if (out.ok) {
    // TLS 1.3 tickets follow the handshake: let the client read them.
    char byte;
    SSL_write(s.get(), "x", 1);
    SSL_read(c, &byte, 1);
    char cn[256] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(SSL_get0_peer_certificate(c)), NID_commonName,
                              cn, sizeof(cn));
    out.peer_cn = cn;
    const unsigned char* a = nullptr;
    unsigned n = 0;
    SSL_get0_alpn_selected(c, &a, &n);
    if (a != nullptr) out.alpn.assign(reinterpret_cast<const char*>(a), n);
    out.version = SSL_get_version(c);
    out.resumed = SSL_session_reused(c) == 1;
    out.session.reset(SSL_get1_session(c), SSL_SESSION_free);
  }
  // A connection freed without close_notify marks its session not resumable.
  SSL_shutdown(c);
  ERR_clear_error();
  SSL_free(c);
  SSL_CTX_free(cctx);
  return out;
}

class ServerContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir();
    pki_ = std::make_unique<TestPki>(dir_);
  }
  std::shared_ptr<const Certificate> cert(const std::string& cn,
                                          const std::vector<std::string>& names) {
    auto issued = pki_->issue(cn, names);
    return load_certificate({issued.cert, issued.key, ""});
  }
  std::string dir_;
  std::unique_ptr<TestPki> pki_;
};

TEST_F(ServerContextTest, PicksTheCertificateByServerName) {
  ServerSettings s;
  s.certificates = {cert("first", {"first.test"}), cert("apps", {"*.apps.test"}),
                    cert("fallback", {"fallback.test"})};
  s.default_certificate = 2;
  auto ctx = ServerContext::build(s);
  EXPECT_EQ(handshake(*ctx, hello_for("first.test")).peer_cn, "first");
  EXPECT_EQ(handshake(*ctx, hello_for("x.apps.test")).peer_cn, "apps");
  EXPECT_EQ(handshake(*ctx, hello_for("a.b.apps.test")).peer_cn, "fallback");
  EXPECT_EQ(handshake(*ctx, hello_for("")).peer_cn, "fallback");
  EXPECT_EQ(ctx->certificate_for("x.apps.test").names[0], "*.apps.test");
}

TEST_F(ServerContextTest, AlpnPrefersTheServersOrderAndNeverFailsTheHandshake) {
  ServerSettings s;
  s.certificates = {cert("a", {"a.test"})};
  s.alpn = {"h2", "http/1.1"};
  auto ctx = ServerContext::build(s);
  EXPECT_EQ(handshake(*ctx, hello_for("a.test", std::string("\x08http/1.1\x02h2", 12))).alpn, "h2");
  s.alpn = {"http/1.1"};
  ctx = ServerContext::build(s);
  EXPECT_EQ(handshake(*ctx, hello_for("a.test", std::string("\x02h2\x08http/1.1", 12))).alpn,
            "http/1.1");
  Outcome only_h2 = handshake(*ctx, hello_for("a.test", std::string("\x02h2", 3)));
  EXPECT_TRUE(only_h2.ok);
  EXPECT_EQ(only_h2.alpn, "");
}

TEST_F(ServerContextTest, AnswersTlsAlpn01FromTheChallengeBoardOnly) {
  auto board = std::make_shared<ChallengeBoard>();
  ServerSettings s;
  s.certificates = {cert("site", {"site.test"})};
  s.alpn = {"h2", "http/1.1"};
  s.acme_challenges = board;
  auto ctx = ServerContext::build(s);
  const std::string acme_tls(std::string("\x0a") + "acme-tls/1");
  // Nothing published: a CA's probe gets the site's certificate, without ALPN.
  Outcome before = handshake(*ctx, hello_for("site.test", acme_tls));
  EXPECT_EQ(before.peer_cn, "site");
  EXPECT_EQ(before.alpn, "");

  auto challenge = cert("challenge", {"site.test"});
  X509_up_ref(challenge->leaf.get());
  EVP_PKEY_up_ref(challenge->key.get());
  board->publish_tls_alpn("site.test", X509Ptr(challenge->leaf.get()),
                          PkeyPtr(challenge->key.get()));
  Outcome probe = handshake(*ctx, hello_for("SITE.test", acme_tls));
  EXPECT_EQ(probe.peer_cn, "challenge");
  EXPECT_EQ(probe.alpn, "acme-tls/1");
  EXPECT_EQ(board->tls_alpn_answered(), 1u);
  // Browsers never offer acme-tls/1: they keep getting the site's certificate.
  Outcome browser = handshake(*ctx, hello_for("site.test", std::string("\x02h2", 3)));
  EXPECT_EQ(browser.peer_cn, "site");
  EXPECT_EQ(browser.alpn, "h2");
  // A probe for a name with no challenge gets the site's certificate too.
  EXPECT_EQ(handshake(*ctx, hello_for("other.test", acme_tls)).peer_cn, "site");

  board->withdraw_tls_alpn("site.test");
  EXPECT_EQ(handshake(*ctx, hello_for("site.test", acme_tls)).peer_cn, "site");
  EXPECT_EQ(board->tls_alpn_answered(), 1u);
}

TEST(ChallengeBoardTest, AnswersPublishedHttp01TokensUntilWithdrawn) {
  ChallengeBoard board;
  EXPECT_FALSE(board.has_http());
  board.publish_http("tok-1", "tok-1.thumb");
  EXPECT_TRUE(board.has_http());
  EXPECT_EQ(board.answer_http("tok-1").value_or(""), "tok-1.thumb");
  EXPECT_FALSE(board.answer_http("tok-2").has_value());
  EXPECT_EQ(board.http_answered(), 1u);
  board.withdraw_http("tok-1");
  EXPECT_FALSE(board.has_http());
  EXPECT_FALSE(board.answer_http("tok-1").has_value());
}

TEST_F(ServerContextTest, ModernPolicyRefusesTls12) {
  ServerSettings s;
  s.certificates = {cert("a", {"a.test"})};
  s.policy = Policy::kModern;
  auto ctx = ServerContext::build(s);
  EXPECT_FALSE(handshake(*ctx, hello_for("a.test", "", nullptr, TLS1_2_VERSION)).ok);
  EXPECT_EQ(handshake(*ctx, hello_for("a.test")).version, "TLSv1.3");
  s.policy = Policy::kIntermediate;
  ctx = ServerContext::build(s);
  EXPECT_EQ(handshake(*ctx, hello_for("a.test", "", nullptr, TLS1_2_VERSION)).version, "TLSv1.2");
}

// A ticket sealed with a key opens while the key is kept (kKept rotations), not after:
// the forward secrecy that rotation buys.
TEST_F(ServerContextTest, TicketsResumeAcrossContextsUntilTheirKeyIsRotatedOut) {
  auto keys = std::make_shared<TicketKeys>();
  ServerSettings s;
  s.certificates = {cert("a", {"a.test"})};
  s.ticket_keys = keys;
  auto one = ServerContext::build(s);
  auto two = ServerContext::build(s);  // a reload: a new context, the same keys
  for (int version : {TLS1_2_VERSION, 0}) {
    SCOPED_TRACE(version == 0 ? "TLS 1.3" : "TLS 1.2");
    Outcome first = handshake(*one, hello_for("a.test", "", nullptr, version));
    ASSERT_TRUE(first.ok);
    Outcome again = handshake(*two, hello_for("a.test", "", first.session.get(), version));
    EXPECT_TRUE(again.resumed) << "another context with the same keys opens the ticket";
    keys->rotate();
    keys->rotate();
    Outcome older = handshake(*two, hello_for("a.test", "", first.session.get(), version));
    EXPECT_TRUE(older.resumed) << "a key two rotations old still opens";
    keys->rotate();
    Outcome gone = handshake(*two, hello_for("a.test", "", first.session.get(), version));
    EXPECT_TRUE(gone.ok);
    EXPECT_FALSE(gone.resumed) << "the key was dropped: a full handshake";
    EXPECT_EQ(keys->size(), TicketKeys::kKept);
  }
}

TEST_F(ServerContextTest, RefusesSettingsItCannotHonour) {
  ServerSettings s;
  EXPECT_THROW(ServerContext::build(s), Error);
  s.certificates = {cert("a", {"a.test"})};
  s.default_certificate = 1;
  EXPECT_THROW(ServerContext::build(s), Error);
  s.default_certificate = 0;
  s.client_ca = dir_ + "/no-such-ca.pem";
  try {
    ServerContext::build(s);
    FAIL() << "a missing CA bundle was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-ca.pem\": cannot read it"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace ballast::tls
