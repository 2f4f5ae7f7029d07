#pragma once
#include <string>
#include <string_view>

#include "tls/openssl_util.h"

namespace ballast::acme {

// The JSON Web Signature pieces ACME needs (RFC 8555 6.2): base64url, an ECDSA P-256
// account key, its JWK and thumbprint, and signed requests. ES256 is the one algorithm
// every ACME server must accept, and P-256 keys are small and fast.

// base64url without padding (RFC 7515 2).
std::string base64url(std::string_view bytes);

// A new ECDSA P-256 key.
tls::PkeyPtr generate_p256_key();
// PEM (PKCS #8) text of a private key, and back; reading throws tls::Error naming `what`.
std::string private_key_pem(EVP_PKEY* key);
tls::PkeyPtr read_private_key_pem(const std::string& pem, const std::string& what);

// The public half of a P-256 key as a JWK, with its members in the order RFC 7638 hashes
// them: {"crv":"P-256","kty":"EC","x":...,"y":...}.
std::string jwk_json(EVP_PKEY* key);
// The key's JWK thumbprint (RFC 7638): base64url of the SHA-256 of jwk_json.
std::string jwk_thumbprint(EVP_PKEY* key);
// base64url of the SHA-256 of `text`.
std::string sha256_base64url(std::string_view text);
// The raw SHA-256 of `text`.
std::string sha256(std::string_view text);

// A JWS in flattened JSON serialization signed with ES256: {"protected", "payload",
// "signature"}. `protected_json` is the header as JSON text; `payload` empty means a
// POST-as-GET (RFC 8555 6.3).
std::string sign_jws(EVP_PKEY* key, const std::string& protected_json, const std::string& payload);

}  // namespace ballast::acme
