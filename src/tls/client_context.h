#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tls/openssl_util.h"

namespace ballast::tls {

struct ClientSettings {
  // The CA bundle the server's certificate must chain to (empty: the system's).
  std::string ca_file;
  bool verify = true;  // false: accept any certificate (a test target, never production)
  // A client certificate for servers that ask for one (mutual TLS); empty: none.
  std::string cert_file;
  std::string key_file;
  std::vector<std::string> alpn = {"http/1.1"};
  bool operator==(const ClientSettings&) const = default;
};

// TLS towards targets: one OpenSSL client context per target group, immutable, shared by
// all workers (each connection is an SSL of it).
class ClientContext {
 public:
  // Throws tls::Error saying which file and what is wrong.
  static std::shared_ptr<const ClientContext> build(const ClientSettings& settings);
  // A client-side connection in connect state; `server_name` (when not empty) is sent as
  // SNI and, when verifying, must be a name of the server's certificate.
  SslPtr new_connection(const std::string& server_name) const;
  const ClientSettings& settings() const { return settings_; }

 private:
  explicit ClientContext(ClientSettings settings) : settings_(std::move(settings)) {}
  ClientSettings settings_;
  SslCtxPtr ctx_;
};

}  // namespace ballast::tls
