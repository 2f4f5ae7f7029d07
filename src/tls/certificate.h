#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tls/openssl_util.h"

namespace ballast::tls {

// Where a certificate comes from: PEM files (the chain may follow the leaf in `cert`), and
// optionally a DER OCSP response to staple.
struct CertificateFiles {
  std::string cert;
  std::string key;
  std::string ocsp;  // empty: no stapling
};

// A certificate, its chain and key, read and checked: the key matches, the names it
// answers for are known. Immutable once loaded, so contexts of several configurations can
// share it.
struct Certificate {
  CertificateFiles files;
  X509Ptr leaf;
  X509StackPtr chain;
  PkeyPtr key;
  std::vector<std::string> names;  // DNS subjectAltNames (the CN when there are none)
  int64_t not_before_unix = 0;
  int64_t not_after_unix = 0;
  std::string key_type;       // "RSA 2048", "EC P-256", ...
  std::string ocsp_response;  // DER bytes, stapled as they are
};

// Reads and checks `files`; throws tls::Error saying which file and what is wrong.
std::shared_ptr<const Certificate> load_certificate(const CertificateFiles& files);
// A certificate made in memory, checked the same way; `label` stands for its files in
// messages. `chain` may be null.
std::shared_ptr<const Certificate> make_certificate(X509Ptr leaf, X509StackPtr chain, PkeyPtr key,
                                                    const std::string& label);

}  // namespace ballast::tls
