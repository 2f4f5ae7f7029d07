// Loading certificates: what is read from the files, and what an operator is told when
// a file cannot be used. Files come from a throwaway CA made with openssl.
#include "tls/certificate.h"

#include <gtest/gtest.h>

#include "support/test_env.h"
#include "support/test_pki.h"

namespace ballast::tls {
namespace {

using test::TestPki;

std::string load_error(const CertificateFiles& files) {
  try {
    load_certificate(files);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(CertificateTest, ReadsNamesChainKeyTypeAndDates) {
  std::string dir = test::make_temp_dir();
  TestPki pki(dir);
  auto ec = pki.issue("site.test", {"site.test", "*.site.test"});
  auto cert = load_certificate({ec.cert, ec.key, ""});
  EXPECT_EQ(cert->names, (std::vector<std::string>{"site.test", "*.site.test"}));
  EXPECT_EQ(cert->key_type, "EC prime256v1");
  EXPECT_EQ(sk_X509_num(cert->chain.get()), 1) << "the CA follows the leaf in the file";
  EXPECT_GT(cert->not_after_unix, cert->not_before_unix + 300 * 86400);

  TestPki::Options rsa;
  rsa.key_type = TestPki::KeyType::kRsa2048;
  auto r = pki.issue("rsa.test", {}, rsa);
  auto rc = load_certificate({r.cert, r.key, ""});
  EXPECT_EQ(rc->key_type, "RSA 2048");
  EXPECT_EQ(rc->names, std::vector<std::string>{"rsa.test"}) << "no SAN: the common name";
}

TEST(CertificateTest, ErrorsSayWhichFileAndWhatIsWrong) {
  std::string dir = test::make_temp_dir();
  TestPki pki(dir);
  auto a = pki.issue("a.test", {"a.test"});
  auto b = pki.issue("b.test", {"b.test"});
  test::write_file(dir + "/garbage.pem", "not a certificate\n");

  std::string e = load_error({dir + "/missing.pem", a.key, ""});
  EXPECT_NE(e.find("certificate \"" + dir + "/missing.pem\": cannot read it"), std::string::npos)
      << e;
  e = load_error({dir + "/garbage.pem", a.key, ""});
  EXPECT_NE(e.find("garbage.pem\": no PEM certificate in it"), std::string::npos) << e;
  e = load_error({a.cert, a.cert, ""});
  EXPECT_NE(e.find("no unencrypted PEM private key"), std::string::npos) << e;
  e = load_error({a.cert, b.key, ""});
  EXPECT_NE(e.find("key \"" + b.key + "\" does not belong to certificate \"" + a.cert + "\""),
            std::string::npos)
      << e;
  e = load_error({a.cert, a.key, dir + "/garbage.pem"});
  EXPECT_NE(e.find("garbage.pem\": not a DER OCSP response"), std::string::npos) << e;
}

TEST(CertificateTest, ReadsAnOcspResponseToStaple) {
  std::string dir = test::make_temp_dir();
  TestPki pki(dir);
  auto a = pki.issue("a.test", {"a.test"});
  std::string ocsp = pki.ocsp_response_for(a);
  auto cert = load_certificate({a.cert, a.key, ocsp});
  EXPECT_GT(cert->ocsp_response.size(), 100u);
}

}  // namespace
}  // namespace ballast::tls
