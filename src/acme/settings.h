#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ballast::acme {

// The challenge types ballast can answer itself. DNS-01 (the only way to wildcard names)
// needs a DNS provider's API, which ballast does not have.
enum class ChallengeType { kHttp01, kTlsAlpn01 };
const char* challenge_name(ChallengeType type);  // "http-01", "tls-alpn-01"

// One listener's automatic certificate: from which CA, for which names, kept where.
struct Settings {
  std::string directory;  // the CA's directory URL (https://)
  std::string email;      // the account's contact; empty: none
  std::vector<std::string> names;
  std::string storage = "/var/lib/ballast/acme";
  std::string ca;  // a CA bundle the directory's HTTPS must chain to; empty: the system's
  // In order of preference; the manager drops HTTP-01 when no plain HTTP listener exists.
  std::vector<ChallengeType> challenges = {ChallengeType::kHttp01, ChallengeType::kTlsAlpn01};
  int64_t renew_before_s = 0;  // 0: a third of the certificate's lifetime
  bool operator==(const Settings&) const = default;
};

}  // namespace ballast::acme
