#include "acme/certificates.h"

#include <openssl/asn1.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "acme/jose.h"

namespace ballast::acme {

namespace {

using ExtensionPtr = std::unique_ptr<X509_EXTENSION, tls::Free<X509_EXTENSION_free>>;
struct ExtensionStackFree {
  void operator()(STACK_OF(X509_EXTENSION) * p) const {
    sk_X509_EXTENSION_pop_free(p, X509_EXTENSION_free);
  }
};

void check(int ok, const char* what) {
  if (ok <= 0) throw tls::Error(std::string(what) + ": " + tls::take_openssl_errors());
}

ExtensionPtr subject_alt_names(const std::vector<std::string>& names) {
  std::string value;
  for (const auto& n : names) value += (value.empty() ? "DNS:" : ",DNS:") + n;
  ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, value.c_str()));
  if (!ext) throw tls::Error("subjectAltName for " + value + ": " + tls::take_openssl_errors());
  return ext;
}

void set_common_name(X509_NAME* subject, const std::string& name) {
  // A common name holds at most 64 characters (RFC 5280 upper bound); longer names live
  // in the subjectAltName only.
  if (name.size() > 64) return;
  check(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0),
        "subject name");
}

// A self-signed X.509 v3 certificate for `names`, valid `days` from an hour ago (clocks
// differ), with a random serial number.
tls::X509Ptr self_signed(EVP_PKEY* key, const std::vector<std::string>& names, long days) {
  tls::X509Ptr cert(X509_new());
  if (!cert) throw tls::Error("cannot make a certificate: " + tls::take_openssl_errors());
  check(X509_set_version(cert.get(), 2), "version");
  unsigned char serial[16];
  check(RAND_bytes(serial, sizeof(serial)), "serial number");
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  ASN1_INTEGER* s = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  check(s != nullptr, "serial number");
  check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr, "validity");
  check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 86400) != nullptr, "validity");
  set_common_name(X509_get_subject_name(cert.get()), names.front());
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())), "issuer");
  check(X509_set_pubkey(cert.get(), key), "public key");
  ExtensionPtr san = subject_alt_names(names);
  check(X509_add_ext(cert.get(), san.get(), -1), "subjectAltName");
  return cert;
}

void sign(X509* cert, EVP_PKEY* key) {
  check(X509_sign(cert, key, EVP_sha256()), "signing a certificate");
}

}  // namespace

std::string make_csr_der(EVP_PKEY* key, const std::vector<std::string>& names) {
  if (names.empty()) throw tls::Error("a certificate request needs a name");
  std::unique_ptr<X509_REQ, tls::Free<X509_REQ_free>> req(X509_REQ_new());
  if (!req) throw tls::Error("cannot make a certificate request: " + tls::take_openssl_errors());
  check(X509_REQ_set_version(req.get(), 0), "request version");
  set_common_name(X509_REQ_get_subject_name(req.get()), names.front());
  check(X509_REQ_set_pubkey(req.get(), key), "request key");
  std::unique_ptr<STACK_OF(X509_EXTENSION), ExtensionStackFree> exts(sk_X509_EXTENSION_new_null());
  check(sk_X509_EXTENSION_push(exts.get(), subject_alt_names(names).release()), "extensions");
  check(X509_REQ_add_extensions(req.get(), exts.get()), "request extensions");
  check(X509_REQ_sign(req.get(), key, EVP_sha256()), "signing the request");
  unsigned char* der = nullptr;
  int n = i2d_X509_REQ(req.get(), &der);
  check(n, "encoding the request");
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

tls::X509Ptr make_tls_alpn_certificate(EVP_PKEY* key, const std::string& name,
                                       const std::string& key_authorization) {
  tls::X509Ptr cert = self_signed(key, {name}, 7);
  // id-pe-acmeIdentifier (1.3.6.1.5.5.7.1.31): its value is the DER of an OCTET STRING
  // holding the 32-byte digest, so the extension's bytes are 04 20 <digest>.
  std::string digest = sha256(key_authorization);
  std::string value = std::string("\x04\x20", 2) + digest;
  std::unique_ptr<ASN1_OBJECT, tls::Free<ASN1_OBJECT_free>> oid(
      OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1));
  std::unique_ptr<ASN1_OCTET_STRING, tls::Free<ASN1_OCTET_STRING_free>> data(
      ASN1_OCTET_STRING_new());
  check(oid && data, "acmeIdentifier");
  check(ASN1_OCTET_STRING_set(data.get(), reinterpret_cast<const unsigned char*>(value.data()),
                              static_cast<int>(value.size())),
        "acmeIdentifier");
  ExtensionPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 1, data.get()));
  check(ext != nullptr, "acmeIdentifier");
  check(X509_add_ext(cert.get(), ext.get(), -1), "acmeIdentifier");
  sign(cert.get(), key);
  return cert;
}

std::shared_ptr<const tls::Certificate> make_stand_in_certificate(
    const std::vector<std::string>& names) {
  tls::PkeyPtr key = generate_p256_key();
  tls::X509Ptr cert = self_signed(key.get(), names, 7);
  sign(cert.get(), key.get());
  return tls::make_certificate(std::move(cert), nullptr, std::move(key),
                               "(stand-in for " + names.front() + " until ACME issues one)");
}

}  // namespace ballast::acme
