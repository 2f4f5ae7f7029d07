#include "tls/client_context.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace ballast::tls {

namespace {
constexpr const char* kSystemBundle = "/etc/ssl/certs/ca-certificates.crt";
}  // namespace

std::shared_ptr<const ClientContext> ClientContext::build(const ClientSettings& settings) {
  std::shared_ptr<ClientContext> c(new ClientContext(settings));
  ERR_clear_error();
  c->ctx_.reset(SSL_CTX_new(TLS_client_method()));
  if (!c->ctx_) throw Error("cannot create a TLS context: " + take_openssl_errors());
  SSL_CTX* ctx = c->ctx_.get();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (settings.verify) {
    const std::string& bundle = settings.ca_file.empty() ? kSystemBundle : settings.ca_file;
    if (SSL_CTX_load_verify_locations(ctx, bundle.c_str(), nullptr) != 1) {
      throw Error("CA bundle \"" + bundle + "\": cannot read it (" + take_openssl_errors() + ")");
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  if (!settings.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, settings.cert_file.c_str()) != 1) {
      throw Error("certificate \"" + settings.cert_file + "\": " + take_openssl_errors());
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, settings.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      throw Error("key \"" + settings.key_file + "\": " + take_openssl_errors());
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      ERR_clear_error();
      throw Error("key \"" + settings.key_file + "\" does not belong to certificate \"" +
                  settings.cert_file + "\"");
    }
  }
  std::string wire;
  for (const auto& p : settings.alpn) wire += static_cast<char>(p.size()) + p;
  SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                          static_cast<unsigned>(wire.size()));
  return c;
}

SslPtr ClientContext::new_connection(const std::string& server_name) const {
  SslPtr ssl(SSL_new(ctx_.get()));
  if (!ssl) return ssl;
  SSL_set_connect_state(ssl.get());
  unsigned char ip[16];
  bool is_ip = inet_pton(AF_INET, server_name.c_str(), ip) == 1 ||
               inet_pton(AF_INET6, server_name.c_str(), ip) == 1;
  if (is_ip) {
    // An address is never sent as SNI (RFC 6066 3); the certificate must name it as an
    // iPAddress.
    if (settings_.verify)
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), server_name.c_str());
  } else if (!server_name.empty()) {
    // SSL_set_tlsext_host_name, without the macro's C cast.
    SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(server_name.c_str()));
    if (settings_.verify) SSL_set1_host(ssl.get(), server_name.c_str());
  }
  return ssl;
}

}  // namespace ballast::tls
