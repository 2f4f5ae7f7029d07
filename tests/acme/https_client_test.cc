#include "acme/https_client.h"

#include <gtest/gtest.h>

namespace ballast::acme {
namespace {

TEST(UrlTest, SplitsHttpsUrls) {
  Url u = Url::parse("https://acme-v02.api.letsencrypt.org/directory");
  EXPECT_EQ(u.host, "acme-v02.api.letsencrypt.org");
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.path, "/directory");
  EXPECT_EQ(u.authority(), "acme-v02.api.letsencrypt.org");
  u = Url::parse("https://localhost:14000/dir");
  EXPECT_EQ(u.port, 14000);
  EXPECT_EQ(u.authority(), "localhost:14000");
  u = Url::parse("https://[::1]:14000");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.path, "/");
  EXPECT_EQ(u.authority(), "[::1]:14000");
}

TEST(UrlTest, RefusesWhatIsNotHttps) {
  EXPECT_THROW(Url::parse("http://ca.test/dir"), Error);
  EXPECT_THROW(Url::parse("https:///dir"), Error);
  EXPECT_THROW(Url::parse("https://ca.test:0/dir"), Error);
  EXPECT_THROW(Url::parse("https://ca.test:99999/dir"), Error);
  EXPECT_THROW(Url::parse("https://ca.test:x/dir"), Error);
  EXPECT_THROW(Url::parse("https://[::1/dir"), Error);
}

TEST(HttpsClientTest, SaysWhyItCouldNotConnect) {
  HttpsClient client(tls::ClientContext::build({}), -1, 2000);
  try {
    client.get("https://127.0.0.1:1/dir");
    FAIL() << "port 1 answered";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("connect to 127.0.0.1:1: 127.0.0.1:1: Connection refused"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace ballast::acme
