#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "tls/certificate.h"
#include "tls/challenge_board.h"
#include "tls/openssl_util.h"
#include "tls/sni_table.h"
#include "tls/ticket_keys.h"

namespace ballast::tls {

// Which protocol versions and ciphers a listener offers (Mozilla's server-side TLS
// profiles, https://wiki.mozilla.org/Security/Server_Side_TLS, version 5.7).
enum class Policy {
  kIntermediate,  // TLS 1.2 and 1.3, forward-secret AEAD ciphers only: every client since ~2014
  kModern,        // TLS 1.3 only
};

struct ServerSettings {
  Policy policy = Policy::kIntermediate;
  // Certificates chosen by the client's server name; `default_certificate` answers the
  // others (and clients that send no name).
  std::vector<std::shared_ptr<const Certificate>> certificates;
  size_t default_certificate = 0;
  // Application protocols offered by ALPN, most preferred first.
  std::vector<std::string> alpn = {"http/1.1"};
  // Client certificates (mutual TLS): the CA bundle they must chain to (empty: none
  // asked); `client_certificate_required` false lets clients without one in.
  std::string client_ca;
  bool client_certificate_required = true;
  size_t session_cache_size = 20000;  // sessions kept for resumption by session ID
  // Session tickets (null: tickets off, resumption by session ID only).
  std::shared_ptr<TicketKeys> ticket_keys;
  // ACME challenges (TLS-ALPN-01) this listener answers; null: none.
  std::shared_ptr<ChallengeBoard> acme_challenges;
};

// A listener's TLS: one OpenSSL context per certificate (the first one the context new
// connections start in; the server-name callback moves a handshake to the certificate its
// SNI asks for). Built once per configuration, immutable, shared by all workers (OpenSSL
// contexts are safe to share; the session cache inside has its own lock).
class ServerContext {
 public:
  // Throws tls::Error when the settings cannot be honoured (an unreadable CA bundle, ...).
  static std::shared_ptr<const ServerContext> build(ServerSettings settings);
  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  // A server-side connection in accept state, not yet tied to a socket.
  SslPtr new_connection() const;
  const ServerSettings& settings() const { return settings_; }
  // The certificate a client naming `server_name` gets.
  const Certificate& certificate_for(std::string_view server_name) const;

 private:
  explicit ServerContext(ServerSettings settings);
  SslCtxPtr make_context(const Certificate& cert);
  static int on_server_name(SSL* ssl, int* alert, void* arg);
  static int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen,
                     const unsigned char* in, unsigned int inlen, void* arg);
  static int on_ocsp_status(SSL* ssl, void* arg);
  static int on_client_hello(SSL* ssl, int* alert, void* arg);

  ServerSettings settings_;
  std::string alpn_wire_;            // the ALPN list in wire format
  std::vector<SslCtxPtr> contexts_;  // by certificate
  SniTable sni_;
};

}  // namespace ballast::tls
