#include "tls/certificate.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <fstream>
#include <sstream>

namespace ballast::tls {

namespace {

BioPtr open_file(const std::string& path, const char* what) {
  ERR_clear_error();
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    throw Error(std::string(what) + " \"" + path + "\": cannot read it (" +
                take_openssl_errors("no such file") + ")");
  }
  return bio;
}

int64_t unix_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

std::vector<std::string> dns_names(X509* cert) {
  std::vector<std::string> names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
      if (n->type != GEN_DNS) continue;
      const ASN1_IA5STRING* s = n->d.dNSName;
      names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<size_t>(ASN1_STRING_length(s)));
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    // No subjectAltName: the common name is the certificate's one name (legacy).
    char cn[256];
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
    if (n > 0) names.emplace_back(cn, static_cast<size_t>(n));
  }
  return names;
}

std::string describe_key(EVP_PKEY* key) {
  int bits = EVP_PKEY_get_bits(key);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return "RSA " + std::to_string(bits);
    case EVP_PKEY_EC: {
      char group[64] = "";
      size_t len = 0;
      EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof(group), &len);
      return std::string("EC ") + group;
    }
    case EVP_PKEY_ED25519:
      return "Ed25519";
    default:
      return "key of " + std::to_string(bits) + " bits";
  }
}

std::string read_ocsp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("OCSP response \"" + path + "\": cannot read it");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  std::string der = bytes.str();
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  OCSP_RESPONSE* response = d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size()));
  if (response == nullptr) {
    throw Error("OCSP response \"" + path + "\": not a DER OCSP response (" +
                take_openssl_errors() + ")");
  }
  int status = OCSP_response_status(response);
  OCSP_RESPONSE_free(response);
  if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    throw Error("OCSP response \"" + path + "\": the responder answered " +
                OCSP_response_status_str(status) + ", nothing to staple");
  }
  return der;
}

// The checks and facts every certificate gets, however it was made.
void check_and_describe(Certificate& c) {
  if (X509_check_private_key(c.leaf.get(), c.key.get()) != 1) {
    ERR_clear_error();
    throw Error("key \"" + c.files.key + "\" does not belong to certificate \"" + c.files.cert +
                "\"");
  }
  c.names = dns_names(c.leaf.get());
  if (c.names.empty()) {
    throw Error("certificate \"" + c.files.cert +
                "\": names no host (no DNS subjectAltName, no common name)");
  }
  c.not_before_unix = unix_time(X509_get0_notBefore(c.leaf.get()));
  c.not_after_unix = unix_time(X509_get0_notAfter(c.leaf.get()));
  c.key_type = describe_key(c.key.get());
}

}  // namespace

std::shared_ptr<const Certificate> load_certificate(const CertificateFiles& files) {
  auto c = std::make_shared<Certificate>();
  c->files = files;
  {
    BioPtr bio = open_file(files.cert, "certificate");
    c->leaf.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!c->leaf) {
      throw Error("certificate \"" + files.cert + "\": no PEM certificate in it (" +
                  take_openssl_errors() + ")");
    }
    c->chain.reset(sk_X509_new_null());
    while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      sk_X509_push(c->chain.get(), extra);
    }
    ERR_clear_error();  // the end of the file reads as an error
  }
  {
    BioPtr bio = open_file(files.key, "key");
    c->key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!c->key) {
      throw Error("key \"" + files.key + "\": no unencrypted PEM private key in it (" +
                  take_openssl_errors() + ")");
    }
  }
  check_and_describe(*c);
  if (!files.ocsp.empty()) c->ocsp_response = read_ocsp(files.ocsp);
  return c;
}

std::shared_ptr<const Certificate> make_certificate(X509Ptr leaf, X509StackPtr chain, PkeyPtr key,
                                                    const std::string& label) {
  auto c = std::make_shared<Certificate>();
  c->files = CertificateFiles{label, label, ""};
  c->leaf = std::move(leaf);
  c->chain = chain ? std::move(chain) : X509StackPtr(sk_X509_new_null());
  c->key = std::move(key);
  check_and_describe(*c);
  return c;
}

}  // namespace ballast::tls
