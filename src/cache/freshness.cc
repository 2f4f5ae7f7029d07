#include "cache/freshness.h"

#include <algorithm>

namespace ballast::cache {

namespace {

// Statuses a cache may store without explicit freshness (RFC 9110 15.1 "heuristically
// cacheable"). 206 is left out until ranges are stored.
bool heuristically_cacheable(int status) {
  switch (status) {
    case 200:
    case 203:
    case 204:
    case 300:
    case 301:
    case 308:
    case 404:
    case 405:
    case 410:
    case 414:
    case 501:
      return true;
    default:
      return false;
  }
}

// Statuses this cache understands well enough to store at all (RFC 9111 3: "the response
// status code is final and ... understood").
bool understood(int status) {
  return heuristically_cacheable(status) || status == 302 || status == 303 || status == 307 ||
         status == 400 || status == 403 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

bool explicit_freshness(const StoredResponse& r) {
  return r.cc.s_maxage || r.cc.max_age || r.has_expires;
}

// A stale response may not be served without revalidation (RFC 9111 4.2.4, 5.2.2.2,
// 5.2.2.8, 5.2.2.10: s-maxage implies proxy-revalidate for shared caches).
bool must_revalidate_when_stale(const StoredResponse& r) {
  return r.cc.has(Directive::kMustRevalidate) || r.cc.has(Directive::kProxyRevalidate) ||
         r.cc.s_maxage.has_value();
}

int64_t staleness(const StoredResponse& r, const TtlPolicy& policy, int64_t now) {
  return current_age(r, now) - freshness_lifetime(r, policy);
}

}  // namespace

const char* storable_name(Storable s) {
  switch (s) {
    case Storable::kYes:
      return "storable";
    case Storable::kMethod:
      return "method";
    case Storable::kStatus:
      return "status";
    case Storable::kNoStore:
      return "no-store";
    case Storable::kPrivate:
      return "private";
    case Storable::kAuthorization:
      return "authorization";
    case Storable::kSetCookie:
      return "set-cookie";
    case Storable::kNoLifetime:
      return "no-lifetime";
  }
  return "?";
}

Storable may_store(const StoreQuestion& q, const TtlPolicy& policy) {
  const StoredResponse& r = *q.response;
  if (q.method != "GET") return Storable::kMethod;
  if (q.request_cc->has(Directive::kNoStore) || r.cc.has(Directive::kNoStore)) {
    return Storable::kNoStore;
  }
  if (r.cc.has(Directive::kPrivate)) return Storable::kPrivate;
  if (!understood(r.status)) return Storable::kStatus;
  if (!heuristically_cacheable(r.status) && !explicit_freshness(r) &&
      !r.cc.has(Directive::kPublic)) {
    return Storable::kStatus;
  }
  // RFC 9111 3.5: a response to a request with Authorization is shared only when it says so.
  if (q.request_has_authorization && !r.cc.has(Directive::kPublic) &&
      !r.cc.has(Directive::kMustRevalidate) && !r.cc.s_maxage) {
    return Storable::kAuthorization;
  }
  if (q.response_sets_cookie) return Storable::kSetCookie;
  // Something must make it reusable: a lifetime, a validator to revalidate it with, or
  // leave to serve it stale (RFC 5861).
  if (freshness_lifetime(r, policy) <= 0 && !r.last_modified && !r.has_etag &&
      !r.cc.stale_if_error && !r.cc.stale_while_revalidate) {
    return Storable::kNoLifetime;
  }
  return Storable::kYes;
}

int64_t freshness_lifetime(const StoredResponse& r, const TtlPolicy& policy) {
  auto bounded = [&](int64_t v) {
    return std::clamp(v, policy.min_ttl, std::max(policy.min_ttl, policy.max_ttl));
  };
  if (r.cc.s_maxage) return bounded(*r.cc.s_maxage);
  if (r.cc.max_age) return bounded(*r.cc.max_age);
  if (r.has_expires) {
    // An invalid Expires means "already expired" (RFC 9111 5.3).
    if (!r.expires) return 0;
    int64_t date = r.date.value_or(r.response_time);
    return bounded(std::max<int64_t>(0, *r.expires - date));
  }
  if (policy.heuristic && r.last_modified && heuristically_cacheable(r.status)) {
    int64_t date = r.date.value_or(r.response_time);
    return bounded(std::max<int64_t>(0, (date - *r.last_modified) / 10));
  }
  return bounded(policy.default_ttl);
}

int64_t current_age(const StoredResponse& r, int64_t now) {
  int64_t date = r.date.value_or(r.response_time);
  int64_t apparent_age = std::max<int64_t>(0, r.response_time - date);
  int64_t response_delay = std::max<int64_t>(0, r.response_time - r.request_time);
  int64_t corrected_age_value = r.age_value + response_delay;
  int64_t corrected_initial_age = std::max(apparent_age, corrected_age_value);
  int64_t resident_time = std::max<int64_t>(0, now - r.response_time);
  return corrected_initial_age + resident_time;
}

Use decide(const StoredResponse& r, const CacheControl& request_cc, const TtlPolicy& policy,
           int64_t now) {
  if (r.cc.has(Directive::kNoCache) || request_cc.has(Directive::kNoCache)) return Use::kRevalidate;
  int64_t age = current_age(r, now);
  int64_t lifetime = freshness_lifetime(r, policy);
  if (request_cc.max_age && age > *request_cc.max_age) return Use::kRevalidate;
  if (request_cc.min_fresh && lifetime - age < *request_cc.min_fresh) return Use::kRevalidate;
  if (lifetime > age) return Use::kFresh;
  if (must_revalidate_when_stale(r)) return Use::kRevalidate;
  int64_t stale_for = age - lifetime;
  if (request_cc.has(Directive::kMaxStaleAny) ||
      (request_cc.max_stale && stale_for <= *request_cc.max_stale)) {
    return Use::kStaleAllowed;
  }
  if (r.cc.stale_while_revalidate && stale_for <= *r.cc.stale_while_revalidate) {
    return Use::kStaleWhileRevalidate;
  }
  return Use::kRevalidate;
}

bool may_serve_on_error(const StoredResponse& r, const CacheControl& request_cc,
                        const TtlPolicy& policy, int64_t now) {
  if (must_revalidate_when_stale(r) || r.cc.has(Directive::kNoCache)) return false;
  int64_t stale_for = std::max<int64_t>(0, staleness(r, policy, now));
  std::optional<int64_t> allowed =
      request_cc.stale_if_error ? request_cc.stale_if_error : r.cc.stale_if_error;
  return allowed && stale_for <= *allowed;
}

}  // namespace ballast::cache
