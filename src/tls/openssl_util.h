#pragma once
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace ballast::tls {

// OpenSSL objects owned the C++ way.
struct SslCtxFree {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
struct SslFree {
  void operator()(SSL* p) const { SSL_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509StackFree {
  void operator()(STACK_OF(X509) * p) const { sk_X509_pop_free(p, X509_free); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;
// Any other OpenSSL object, freed by its own function: std::unique_ptr<BIGNUM, Free<BN_free>>.
template <auto FreeFunction>
struct Free {
  template <typename T>
  void operator()(T* p) const {
    FreeFunction(p);
  }
};
using BioPtr = std::unique_ptr<BIO, Free<BIO_free>>;

// A problem with TLS material or settings, said so that an operator can act on it.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// OpenSSL's queued errors as one line ("PEM routines::no start line"), and the queue
// emptied; `fallback` when the queue was empty.
std::string take_openssl_errors(const std::string& fallback = "unknown OpenSSL error");

// "CN=api.example.com,O=Example" (RFC 2253 order and escaping).
std::string subject_text(X509* cert);

}  // namespace ballast::tls
