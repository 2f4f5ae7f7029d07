#include "acme/jose.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <array>
#include <memory>

namespace ballast::acme {

namespace {

using BignumPtr = std::unique_ptr<BIGNUM, tls::Free<BN_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, tls::Free<EVP_MD_CTX_free>>;
using SignaturePtr = std::unique_ptr<ECDSA_SIG, tls::Free<ECDSA_SIG_free>>;

// A big number as exactly `width` big-endian bytes (JWK coordinates and JWS signature
// halves are fixed-width, left-padded with zeros).
std::string fixed_width(const BIGNUM* n, int width) {
  std::string out(static_cast<size_t>(width), '\0');
  if (BN_bn2binpad(n, reinterpret_cast<unsigned char*>(out.data()), width) != width) {
    throw tls::Error("a number does not fit in " + std::to_string(width) + " bytes");
  }
  return out;
}

std::string coordinate(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
    throw tls::Error("the account key is not an EC P-256 key (" + tls::take_openssl_errors() + ")");
  }
  BignumPtr n(raw);
  return base64url(fixed_width(n.get(), 32));
}

}  // namespace

std::string base64url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (bytes.size() - i == 1) {
    unsigned v = byte(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

tls::PkeyPtr generate_p256_key() {
  // EVP_EC_gen is a macro with a C cast; this is the call it stands for.
  tls::PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) throw tls::Error("cannot make a P-256 key: " + tls::take_openssl_errors());
  return key;
}

std::string private_key_pem(EVP_PKEY* key) {
  tls::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw tls::Error("cannot write a key: " + tls::take_openssl_errors());
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n > 0 ? static_cast<size_t>(n) : 0);
}

tls::PkeyPtr read_private_key_pem(const std::string& pem, const std::string& what) {
  tls::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  tls::PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    throw tls::Error(what + ": no unencrypted PEM private key in it (" +
                     tls::take_openssl_errors() + ")");
  }
  return key;
}

std::string jwk_json(EVP_PKEY* key) {
  return R"({"crv":"P-256","kty":"EC","x":")" + coordinate(key, OSSL_PKEY_PARAM_EC_PUB_X) +
         R"(","y":")" + coordinate(key, OSSL_PKEY_PARAM_EC_PUB_Y) + R"("})";
}

std::string sha256(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  unsigned int n = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &n, EVP_sha256(), nullptr) != 1) {
    throw tls::Error("SHA-256: " + tls::take_openssl_errors());
  }
  return std::string(reinterpret_cast<const char*>(digest.data()), n);
}

std::string sha256_base64url(std::string_view text) {
  return base64url(sha256(text));
}

std::string jwk_thumbprint(EVP_PKEY* key) {
  return sha256_base64url(jwk_json(key));
}

std::string sign_jws(EVP_PKEY* key, const std::string& protected_json, const std::string& payload) {
  std::string protected64 = base64url(protected_json);
  std::string payload64 = base64url(payload);
  std::string signing_input = protected64 + "." + payload64;
  MdCtxPtr md(EVP_MD_CTX_new());
  size_t der_len = 0;
  if (!md || EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &der_len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    throw tls::Error("cannot sign an ACME request: " + tls::take_openssl_errors());
  }
  std::string der(der_len, '\0');
  if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    throw tls::Error("cannot sign an ACME request: " + tls::take_openssl_errors());
  }
  // OpenSSL signs in DER (a SEQUENCE of r and s); JWS wants r and s side by side
  // (RFC 7518 3.4).
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  SignaturePtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) throw tls::Error("cannot read an ECDSA signature: " + tls::take_openssl_errors());
  std::string raw =
      fixed_width(ECDSA_SIG_get0_r(sig.get()), 32) + fixed_width(ECDSA_SIG_get0_s(sig.get()), 32);
  return R"({"protected":")" + protected64 + R"(","payload":")" + payload64 + R"(","signature":")" +
         base64url(raw) + R"("})";
}

}  // namespace ballast::acme
