#pragma once
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

#include "cache/cache_control.h"

namespace ballast::cache {

// What a cache knows of a stored response, in Unix seconds (RFC 9111 4.2.3's names).
struct StoredResponse {
  int status = 200;
  CacheControl cc;
  std::optional<int64_t> date;           // the Date header (absent: response_time stands in)
  bool has_expires = false;              // an Expires header is present...
  std::optional<int64_t> expires;        // ...and this is its date (absent: it was invalid)
  std::optional<int64_t> last_modified;  // the Last-Modified header
  bool has_etag = false;                 // an ETag header (a validator)
  int64_t age_value = 0;                 // the Age header (0 when absent or invalid)
  int64_t request_time = 0;              // when the cache sent the request
  int64_t response_time = 0;             // when the response arrived
};

// A rule's overrides, as CloudFront's cache policy has them. Origin directives always
// win over the policy where they forbid (no-store, private, no-cache); the policy only
// fills in a lifetime the origin did not give and bounds the one it gave.
struct TtlPolicy {
  int64_t default_ttl = 0;  // lifetime when the origin gives none (and no heuristic)
  int64_t min_ttl = 0;
  int64_t max_ttl = std::numeric_limits<int64_t>::max();
  // RFC 9111 4.2.2: without explicit freshness, a tenth of the time since Last-Modified.
  bool heuristic = false;
};

// Why a response may not be stored by a shared cache (RFC 9111 3), or kYes.
enum class Storable {
  kYes,
  kMethod,         // only GET responses are stored
  kStatus,         // not final, or not understood, or not cacheable without explicit freshness
  kNoStore,        // no-store in the request or the response
  kPrivate,        // for one user's cache only
  kAuthorization,  // the request carried credentials and the response did not allow sharing
  kSetCookie,      // it would hand one client's cookie to others
  kNoLifetime,     // no freshness from the origin or the policy, no validator, no stale-*
};
const char* storable_name(Storable s);

struct StoreQuestion {
  std::string_view method;
  const CacheControl* request_cc = nullptr;
  bool request_has_authorization = false;
  const StoredResponse* response = nullptr;
  bool response_sets_cookie = false;
};
Storable may_store(const StoreQuestion& q, const TtlPolicy& policy);

// RFC 9111 4.2.1 for a shared cache: s-maxage, else max-age, else Expires minus Date, else
// the heuristic or the policy's default; explicit lifetimes bounded by min_ttl / max_ttl.
int64_t freshness_lifetime(const StoredResponse& r, const TtlPolicy& policy);
// RFC 9111 4.2.3.
int64_t current_age(const StoredResponse& r, int64_t now);

// What a stored response can do for a new request (RFC 9111 4.2.4, 5.2.1; RFC 5861).
enum class Use {
  kFresh,                 // serve it
  kStaleAllowed,          // stale, but the request's max-stale accepts it: serve it
  kStaleWhileRevalidate,  // serve it, and revalidate in the background
  kRevalidate,            // ask the target first (conditionally, with its validators)
};
Use decide(const StoredResponse& r, const CacheControl& request_cc, const TtlPolicy& policy,
           int64_t now);

// stale-if-error (RFC 5861 4): whether a stale response may answer when the target failed
// (unreachable, or a 5xx), by the response's or the request's directive. Never when the
// response must be revalidated (must-revalidate, proxy-revalidate, s-maxage: RFC 9111 4.2.4).
bool may_serve_on_error(const StoredResponse& r, const CacheControl& request_cc,
                        const TtlPolicy& policy, int64_t now);

}  // namespace ballast::cache
