#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "acme/https_client.h"
#include "acme/settings.h"
#include "tls/challenge_board.h"
#include "tls/openssl_util.h"

namespace ballast::acme {

// A certificate the CA issued, with the key it was requested for.
struct Issued {
  std::string chain_pem;  // the leaf first, then intermediates (RFC 8555 9.1)
  std::string key_pem;
};

// One RFC 8555 conversation with a CA: account, order, authorizations, finalization,
// download. Blocking (it runs on the ACME thread); every wait is bounded, and ends early
// when the HTTPS client's stop descriptor fires. Throws Error saying which step failed
// and what the CA said (its problem document's type and detail).
class Client {
 public:
  // `account_key` signs every request; `board` is where challenges are published for
  // ballast's listeners to answer; `stop_fd` interrupts polling waits.
  Client(HttpsClient& https, EVP_PKEY* account_key, tls::ChallengeBoard& board, int stop_fd);

  // Orders a certificate for `names`, proving control of each with the first challenge
  // type of `challenges` the CA offers.
  Issued obtain(const Settings& settings, const std::vector<ChallengeType>& challenges);

 private:
  void fetch_directory(const std::string& url);
  void ensure_account(const std::string& email);
  // A JWS-signed POST (payload empty: POST-as-GET), with a fresh nonce; retries a
  // badNonce rejection (RFC 8555 6.5) a few times. `step` names it in errors.
  HttpsResponse signed_post(const std::string& url, const std::string& payload,
                            const std::string& step, bool use_jwk = false);
  void take_nonce(const HttpsResponse& r);
  // Proves control of one authorization's name.
  void authorize(const std::string& authz_url, const std::vector<ChallengeType>& challenges);
  // POST-as-GETs `url` until its status leaves `waiting` (each poll after Retry-After or
  // a growing pause), for at most two minutes.
  nlohmann::json poll(const std::string& url, const std::vector<std::string>& waiting,
                      const std::string& step);
  // Sleeps `ms`, or throws when stopping.
  void pause(int64_t ms);

  HttpsClient& https_;
  EVP_PKEY* account_key_;
  tls::ChallengeBoard& board_;
  int stop_fd_;
  std::string jwk_;
  std::string thumbprint_;
  nlohmann::json directory_;
  std::string nonce_;
  std::string account_url_;
};

// "urn:ietf:params:acme:error:rejectedIdentifier: Name is blocked" from a problem
// document (RFC 7807), or the status and body when it is not one.
std::string describe_problem(const HttpsResponse& r);

}  // namespace ballast::acme
