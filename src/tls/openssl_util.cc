#include "tls/openssl_util.h"

#include <openssl/bio.h>
#include <openssl/err.h>

namespace ballast::tls {

std::string take_openssl_errors(const std::string& fallback) {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    // "error:0480006C:PEM routines::no start line": the part after the code is the news.
    std::string line = buf;
    size_t lib = line.find(':', line.find(':') + 1);
    if (lib != std::string::npos) line = line.substr(lib + 1);
    if (!text.empty()) text += "; ";
    text += line;
  }
  return text.empty() ? fallback : text;
}

std::string subject_text(X509* cert) {
  if (cert == nullptr) return {};
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string text(data, n > 0 ? static_cast<size_t>(n) : 0);
  BIO_free(bio);
  return text;
}

}  // namespace ballast::tls
