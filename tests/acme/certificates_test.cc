#include "acme/certificates.h"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include "acme/jose.h"

namespace ballast::acme {
namespace {

std::vector<std::string> dns_names(const STACK_OF(X509_EXTENSION) * exts) {
  std::vector<std::string> names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
    if (n->type == GEN_DNS) {
      names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                         static_cast<size_t>(ASN1_STRING_length(n->d.dNSName)));
    }
  }
  GENERAL_NAMES_free(sans);
  return names;
}

TEST(CertificatesTest, TheRequestNamesEveryNameAndCarriesTheKey) {
  tls::PkeyPtr key = generate_p256_key();
  std::string der = make_csr_der(key.get(), {"www.example.test", "api.example.test"});
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size()));
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(X509_REQ_verify(req, key.get()), 1) << "signed by the certificate's key";
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  EXPECT_EQ(dns_names(exts), (std::vector<std::string>{"www.example.test", "api.example.test"}));
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  char cn[256] = "";
  X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn, sizeof(cn));
  EXPECT_STREQ(cn, "www.example.test");
  X509_REQ_free(req);
  EXPECT_THROW(make_csr_der(key.get(), {}), tls::Error);
}

TEST(CertificatesTest, TheTlsAlpnCertificateCarriesTheDigestInACriticalExtension) {
  tls::PkeyPtr key = generate_p256_key();
  tls::X509Ptr cert = make_tls_alpn_certificate(key.get(), "a.example.test", "token.thumbprint");
  EXPECT_EQ(X509_verify(cert.get(), key.get()), 1) << "self-signed";
  EXPECT_EQ(dns_names(X509_get0_extensions(cert.get())),
            std::vector<std::string>{"a.example.test"});
  ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
  int at = X509_get_ext_by_OBJ(cert.get(), oid, -1);
  ASN1_OBJECT_free(oid);
  ASSERT_GE(at, 0) << "id-pe-acmeIdentifier";
  X509_EXTENSION* ext = X509_get_ext(cert.get(), at);
  EXPECT_EQ(X509_EXTENSION_get_critical(ext), 1);
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
  std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                    static_cast<size_t>(ASN1_STRING_length(data)));
  EXPECT_EQ(value, std::string("\x04\x20", 2) + sha256("token.thumbprint"));
}

TEST(CertificatesTest, TheStandInIsSelfSignedForTheNames) {
  auto cert = make_stand_in_certificate({"www.example.test", "api.example.test"});
  EXPECT_EQ(cert->names, (std::vector<std::string>{"www.example.test", "api.example.test"}));
  EXPECT_EQ(X509_check_issued(cert->leaf.get(), cert->leaf.get()), X509_V_OK);
  EXPECT_GT(cert->not_after_unix - cert->not_before_unix, 6 * 86400);
  EXPECT_EQ(cert->key_type, "EC prime256v1");
}

}  // namespace
}  // namespace ballast::acme
