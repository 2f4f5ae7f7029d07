#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tls/certificate.h"
#include "tls/openssl_util.h"

namespace ballast::acme {

// The certificates and requests ballast makes itself for ACME.

// A certificate signing request (PKCS #10, DER) for `names`, signed by `key`: the first
// name is the subject's common name, all are subjectAltNames (RFC 8555 7.4).
std::string make_csr_der(EVP_PKEY* key, const std::vector<std::string>& names);

// The self-signed certificate a TLS-ALPN-01 validation must see for `name` (RFC 8737 3):
// `name` as its only subjectAltName and a critical acmeIdentifier extension holding the
// SHA-256 of `key_authorization`.
tls::X509Ptr make_tls_alpn_certificate(EVP_PKEY* key, const std::string& name,
                                       const std::string& key_authorization);

// What an ACME listener serves until its CA has issued a certificate: self-signed for
// `names`, valid for a week, so that the listener can start (and answer TLS-ALPN-01)
// while clients, rightly, refuse it. Traefik and Caddy do the same.
std::shared_ptr<const tls::Certificate> make_stand_in_certificate(
    const std::vector<std::string>& names);

}  // namespace ballast::acme
