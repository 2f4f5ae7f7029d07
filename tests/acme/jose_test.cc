#include "acme/jose.h"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

namespace ballast::acme {
namespace {

std::string base64url_decode(const std::string& text) {
  std::string out;
  unsigned value = 0;
  int bits = 0;
  for (char c : text) {
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '-'             ? 62
            : c == '_'             ? 63
                                   : -1;
    if (v < 0) ADD_FAILURE() << "not base64url: " << text;
    value = (value << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((value >> bits) & 0xff);
    }
  }
  return out;
}

TEST(JoseTest, Base64urlHasNoPaddingAndTheUrlAlphabet) {
  // RFC 4648 10's vectors, without the padding.
  EXPECT_EQ(base64url(""), "");
  EXPECT_EQ(base64url("f"), "Zg");
  EXPECT_EQ(base64url("fo"), "Zm8");
  EXPECT_EQ(base64url("foo"), "Zm9v");
  EXPECT_EQ(base64url("foob"), "Zm9vYg");
  EXPECT_EQ(base64url("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url(std::string("\xfb\xff", 2)), "-_8");
}

TEST(JoseTest, TheJwkHasFixedWidthCoordinatesInThumbprintOrder) {
  tls::PkeyPtr key = generate_p256_key();
  std::string jwk = jwk_json(key.get());
  auto doc = nlohmann::json::parse(jwk);
  EXPECT_EQ(doc["kty"], "EC");
  EXPECT_EQ(doc["crv"], "P-256");
  EXPECT_EQ(base64url_decode(doc["x"]).size(), 32u);
  EXPECT_EQ(base64url_decode(doc["y"]).size(), 32u);
  // RFC 7638 3.3: members in lexicographic order, no whitespace.
  EXPECT_EQ(jwk.rfind(R"({"crv":"P-256","kty":"EC","x":")", 0), 0u) << jwk;
  EXPECT_EQ(jwk_thumbprint(key.get()), sha256_base64url(jwk));
  EXPECT_EQ(base64url_decode(jwk_thumbprint(key.get())).size(), 32u);
  // The key survives PEM and keeps its thumbprint.
  tls::PkeyPtr again = read_private_key_pem(private_key_pem(key.get()), "test");
  EXPECT_EQ(jwk_thumbprint(again.get()), jwk_thumbprint(key.get()));
  EXPECT_THROW(read_private_key_pem("not a key", "a test key"), tls::Error);
}

TEST(JoseTest, SignaturesVerifyWithTheAccountKey) {
  tls::PkeyPtr key = generate_p256_key();
  std::string header = R"({"alg":"ES256","nonce":"n1","url":"https://ca.test/new-order"})";
  std::string payload = R"({"identifiers":[{"type":"dns","value":"a.test"}]})";
  auto jws = nlohmann::json::parse(sign_jws(key.get(), header, payload));
  EXPECT_EQ(base64url_decode(jws["protected"]), header);
  EXPECT_EQ(base64url_decode(jws["payload"]), payload);
  std::string raw = base64url_decode(jws["signature"]);
  ASSERT_EQ(raw.size(), 64u) << "ES256 is r and s, 32 bytes each";
  // Back to DER, and verified by OpenSSL over "protected.payload".
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig, &der);
  std::string input = jws["protected"].get<std::string>() + "." + jws["payload"].get<std::string>();
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key.get()), 1);
  EXPECT_EQ(EVP_DigestVerify(md, der, static_cast<size_t>(der_len),
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  EVP_MD_CTX_free(md);
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  // POST-as-GET: an empty payload.
  EXPECT_EQ(nlohmann::json::parse(sign_jws(key.get(), header, ""))["payload"], "");
}

}  // namespace
}  // namespace ballast::acme
