#include "tls/challenge_board.h"

#include <openssl/tls1.h>

#include <cctype>

namespace ballast::tls {

namespace {

// Where the ALPN protocol list `list` (wire format: length-prefixed names) offers
// "acme-tls/1", or null. Bounds-checked: in a client-hello callback the list is raw input.
const unsigned char* find_acme_alpn(const unsigned char* list, size_t length) {
  for (size_t i = 0; i < length;) {
    size_t n = list[i];
    if (i + 1 + n > length) return nullptr;
    if (std::string_view(reinterpret_cast<const char*>(list + i + 1), n) == kAcmeTlsAlpn) {
      return list + i + 1;
    }
    i += 1 + n;
  }
  return nullptr;
}

// The challenge context selects "acme-tls/1" and nothing else.
int select_acme_alpn(SSL*, const unsigned char** out, unsigned char* outlen,
                     const unsigned char* in, unsigned int inlen, void*) {
  *out = find_acme_alpn(in, inlen);
  if (*out == nullptr) return SSL_TLSEXT_ERR_ALERT_FATAL;
  *outlen = static_cast<unsigned char>(kAcmeTlsAlpn.size());
  return SSL_TLSEXT_ERR_OK;
}

// The listener's own server-name callback would move the handshake back to the site's
// certificate; on a challenge context the name was already decided.
int keep_context(SSL*, int*, void*) {
  return SSL_TLSEXT_ERR_OK;
}

SslCtxPtr challenge_context(X509* cert, EVP_PKEY* key) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) throw Error("TLS-ALPN-01 context: " + take_openssl_errors());
  // RFC 8737 3: the validation uses TLS 1.2 or later.
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  if (SSL_CTX_use_certificate(ctx.get(), cert) != 1 ||
      SSL_CTX_use_PrivateKey(ctx.get(), key) != 1) {
    throw Error("TLS-ALPN-01 certificate: " + take_openssl_errors());
  }
  SSL_CTX_set_alpn_select_cb(ctx.get(), select_acme_alpn, nullptr);
  // SSL_CTX_set_tlsext_servername_callback is a macro with C casts; this is its call.
  SSL_CTX_callback_ctrl(ctx.get(), SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                        reinterpret_cast<void (*)()>(&keep_context));
  return ctx;
}

// Reads a 2-byte big-endian length.
size_t read16(const unsigned char* p) {
  return (static_cast<size_t>(p[0]) << 8) | p[1];
}

}  // namespace

void ChallengeBoard::publish_http(const std::string& token, const std::string& key_authorization) {
  core::MutexLock lock(mu_);
  http_[token] = key_authorization;
  http_count_.store(http_.size(), std::memory_order_relaxed);
}

void ChallengeBoard::publish_tls_alpn(const std::string& name, X509Ptr cert, PkeyPtr key) {
  SslCtxPtr ctx = challenge_context(cert.get(), key.get());
  core::MutexLock lock(mu_);
  tls_alpn_[name] = std::move(ctx);
}

void ChallengeBoard::withdraw_http(const std::string& token) {
  core::MutexLock lock(mu_);
  http_.erase(token);
  http_count_.store(http_.size(), std::memory_order_relaxed);
}

void ChallengeBoard::withdraw_tls_alpn(const std::string& name) {
  core::MutexLock lock(mu_);
  tls_alpn_.erase(name);
}

std::optional<std::string> ChallengeBoard::answer_http(std::string_view token) {
  core::MutexLock lock(mu_);
  auto it = http_.find(token);
  if (it == http_.end()) return std::nullopt;
  http_answered_.fetch_add(1, std::memory_order_relaxed);
  return it->second;
}

bool ChallengeBoard::answer_tls_alpn(SSL* ssl, std::string_view server_name) {
  core::MutexLock lock(mu_);
  auto it = tls_alpn_.find(server_name);
  if (it == tls_alpn_.end()) return false;
  // The connection takes a reference: withdrawing the challenge mid-handshake is safe.
  if (SSL_set_SSL_CTX(ssl, it->second.get()) == nullptr) return false;
  tls_alpn_answered_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool client_hello_wants_acme(SSL* ssl, std::string* server_name) {
  const unsigned char* p = nullptr;
  size_t len = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &p,
                                &len) != 1 ||
      len < 2 || read16(p) != len - 2) {
    return false;
  }
  if (find_acme_alpn(p + 2, len - 2) == nullptr) return false;
  // server_name extension: list length, then entries of type (0: host_name), length, name.
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &len) != 1 || len < 5 ||
      read16(p) != len - 2 || p[2] != TLSEXT_NAMETYPE_host_name) {
    return false;
  }
  size_t n = read16(p + 3);
  if (5 + n > len) return false;
  server_name->assign(reinterpret_cast<const char*>(p + 5), n);
  for (char& c : *server_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return true;
}

}  // namespace ballast::tls
