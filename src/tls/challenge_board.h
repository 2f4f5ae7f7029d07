#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/thread_annotations.h"
#include "tls/openssl_util.h"

namespace ballast::tls {

// The ACME challenges ballast is answering right now (RFC 8555 8.3 HTTP-01, RFC 8737
// TLS-ALPN-01). The ACME client publishes a challenge before it tells the CA to validate
// and withdraws it once the CA has decided; workers consult the board when a request asks
// for /.well-known/acme-challenge/ or a handshake offers only "acme-tls/1".
//
// One board per process, shared by every configuration. Consulting it takes a lock, but
// only requests and handshakes that ask for a challenge ever do: others see an atomic
// count of zero, or are not on a listener that answers challenges at all.
class ChallengeBoard {
 public:
  // HTTP-01: GET /.well-known/acme-challenge/<token> answers `key_authorization`.
  void publish_http(const std::string& token, const std::string& key_authorization);
  // TLS-ALPN-01: a handshake for `name` offering "acme-tls/1" gets `cert` (self-signed,
  // carrying the acmeIdentifier extension) and negotiates that protocol.
  void publish_tls_alpn(const std::string& name, X509Ptr cert, PkeyPtr key);
  void withdraw_http(const std::string& token);
  void withdraw_tls_alpn(const std::string& name);

  // True when some HTTP-01 challenge is published (a relaxed load: a request that races
  // a publication is routed as usual, and the CA tries again).
  bool has_http() const { return http_count_.load(std::memory_order_relaxed) > 0; }
  // The key authorization for `token`, counted as answered; nullopt when unknown.
  std::optional<std::string> answer_http(std::string_view token);
  // Called for handshakes whose client offers "acme-tls/1": moves `ssl` to the challenge
  // certificate of `server_name` and counts it; false when there is none.
  bool answer_tls_alpn(SSL* ssl, std::string_view server_name);

  uint64_t http_answered() const { return http_answered_.load(std::memory_order_relaxed); }
  uint64_t tls_alpn_answered() const { return tls_alpn_answered_.load(std::memory_order_relaxed); }

 private:
  core::Mutex mu_;
  std::map<std::string, std::string, std::less<>> http_ GUARDED_BY(mu_);    // by token
  std::map<std::string, SslCtxPtr, std::less<>> tls_alpn_ GUARDED_BY(mu_);  // by name
  std::atomic<size_t> http_count_{0};
  std::atomic<uint64_t> http_answered_{0};
  std::atomic<uint64_t> tls_alpn_answered_{0};
};

// The path prefix HTTP-01 challenges are fetched under (RFC 8555 8.3).
inline constexpr std::string_view kAcmeChallengePath = "/.well-known/acme-challenge/";
// The ALPN protocol of TLS-ALPN-01 (RFC 8737 4).
inline constexpr std::string_view kAcmeTlsAlpn = "acme-tls/1";

// True when the ClientHello that `ssl` is processing (in a client-hello callback) offers
// "acme-tls/1"; `server_name` is set to its SNI name.
bool client_hello_wants_acme(SSL* ssl, std::string* server_name);

}  // namespace ballast::tls
