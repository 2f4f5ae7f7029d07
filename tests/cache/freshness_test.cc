// RFC 9111's freshness rules, table by table: storing, lifetime, age, and what a stored
// response can do for a new request.
#include "cache/freshness.h"

#include <gtest/gtest.h>

namespace ballast::cache {
namespace {

constexpr int64_t kT = 1800000000;  // the response arrived then

StoredResponse response(const char* cache_control, int status = 200) {
  StoredResponse r;
  r.status = status;
  r.cc = CacheControl::parse(cache_control);
  r.date = kT;
  r.request_time = kT;
  r.response_time = kT;
  return r;
}

TEST(FreshnessTest, LifetimeFollowsRfc9111Order) {
  struct Row {
    const char* what;
    StoredResponse r;
    TtlPolicy policy;
    int64_t lifetime;
  };
  StoredResponse expires = response("");
  expires.has_expires = true;
  expires.expires = kT + 300;
  StoredResponse bad_expires = response("");
  bad_expires.has_expires = true;  // present, but not a date
  StoredResponse expires_without_date = response("");
  expires_without_date.date.reset();
  expires_without_date.has_expires = true;
  expires_without_date.expires = kT + 50;
  StoredResponse modified = response("");
  modified.last_modified = kT - 10 * 3600;
  StoredResponse both = response("max-age=60");
  both.has_expires = true;
  both.expires = kT + 9999;
  TtlPolicy heuristic;
  heuristic.heuristic = true;
  TtlPolicy defaults;
  defaults.default_ttl = 30;
  TtlPolicy bounds;
  bounds.min_ttl = 100;
  bounds.max_ttl = 1000;
  const Row rows[] = {
      {"s-maxage wins for a shared cache", response("max-age=60, s-maxage=120"), {}, 120},
      {"max-age", response("max-age=60"), {}, 60},
      {"max-age beats Expires", both, {}, 60},
      {"Expires minus Date", expires, {}, 300},
      {"an invalid Expires is already past", bad_expires, defaults, 0},
      {"Expires minus the arrival without Date", expires_without_date, {}, 50},
      {"nothing: no lifetime", response(""), {}, 0},
      {"nothing: the policy's default", response(""), defaults, 30},
      {"heuristic: a tenth since Last-Modified", modified, heuristic, 3600},
      {"heuristic off: Last-Modified alone gives nothing", modified, {}, 0},
      {"heuristic only for heuristically cacheable statuses",
       [&] {
         StoredResponse r = modified;
         r.status = 302;
         return r;
       }(),
       heuristic, 0},
      {"min_ttl raises a short lifetime", response("max-age=5"), bounds, 100},
      {"max_ttl lowers a long one", response("max-age=99999"), bounds, 1000},
      {"bounds apply to the default too", response(""), bounds, 100},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(freshness_lifetime(row.r, row.policy), row.lifetime) << row.what;
  }
}

TEST(FreshnessTest, AgeFollowsRfc9111Section423) {
  StoredResponse r = response("max-age=60");
  r.request_time = kT - 2;  // two seconds on the wire
  r.date = kT - 5;          // the origin's clock says five seconds before arrival
  r.age_value = 3;          // an upstream cache held it three seconds
  // apparent_age 5, corrected_age_value 3 + 2 = 5, so 5 on arrival, plus residence.
  EXPECT_EQ(current_age(r, kT), 5);
  EXPECT_EQ(current_age(r, kT + 10), 15);
  r.age_value = 30;
  EXPECT_EQ(current_age(r, kT + 10), 42);
  // A Date ahead of the arrival (clock skew) gives no negative age.
  r = response("");
  r.date = kT + 100;
  EXPECT_EQ(current_age(r, kT), 0);
}

TEST(FreshnessTest, WhatAStoredResponseCanDo) {
  struct Row {
    const char* what;
    const char* response_cc;
    const char* request_cc;
    int64_t seconds_after;
    Use use;
  };
  const Row rows[] = {
      {"fresh", "max-age=60", "", 59, Use::kFresh},
      {"stale at its lifetime", "max-age=60", "", 60, Use::kRevalidate},
      {"no-cache: always revalidated", "max-age=60, no-cache", "", 0, Use::kRevalidate},
      {"a client's no-cache", "max-age=60", "no-cache", 0, Use::kRevalidate},
      {"a client's max-age", "max-age=60", "max-age=10", 11, Use::kRevalidate},
      {"a client's max-age met", "max-age=60", "max-age=10", 10, Use::kFresh},
      {"min-fresh not met", "max-age=60", "min-fresh=20", 45, Use::kRevalidate},
      {"max-stale accepts", "max-age=60", "max-stale=30", 80, Use::kStaleAllowed},
      {"max-stale exceeded", "max-age=60", "max-stale=30", 91, Use::kRevalidate},
      {"max-stale without a value", "max-age=60", "max-stale", 99999, Use::kStaleAllowed},
      {"must-revalidate beats max-stale", "max-age=60, must-revalidate", "max-stale", 61,
       Use::kRevalidate},
      {"s-maxage implies proxy-revalidate", "s-maxage=60", "max-stale", 61, Use::kRevalidate},
      {"stale-while-revalidate", "max-age=60, stale-while-revalidate=30", "", 70,
       Use::kStaleWhileRevalidate},
      {"stale-while-revalidate exceeded", "max-age=60, stale-while-revalidate=30", "", 91,
       Use::kRevalidate},
      {"must-revalidate beats stale-while-revalidate",
       "max-age=60, stale-while-revalidate=30, must-revalidate", "", 70, Use::kRevalidate},
  };
  for (const Row& row : rows) {
    StoredResponse r = response(row.response_cc);
    EXPECT_EQ(decide(r, CacheControl::parse(row.request_cc), {}, kT + row.seconds_after), row.use)
        << row.what;
  }
}

TEST(FreshnessTest, StaleIfError) {
  StoredResponse r = response("max-age=60, stale-if-error=300");
  EXPECT_TRUE(may_serve_on_error(r, {}, {}, kT + 360));
  EXPECT_FALSE(may_serve_on_error(r, {}, {}, kT + 361));
  // The request's own directive counts too (RFC 5861 4).
  EXPECT_TRUE(may_serve_on_error(response("max-age=60"), CacheControl::parse("stale-if-error=100"),
                                 {}, kT + 100));
  EXPECT_FALSE(may_serve_on_error(response("max-age=60"), {}, {}, kT + 61));
  EXPECT_FALSE(may_serve_on_error(response("max-age=60, stale-if-error=300, must-revalidate"), {},
                                  {}, kT + 100));
}

TEST(FreshnessTest, WhatASharedCacheMayStore) {
  struct Row {
    const char* what;
    const char* method;
    const char* request_cc;
    bool authorization;
    const char* response_cc;
    int status;
    bool set_cookie;
    bool validator;
    Storable expected;
  };
  const Row rows[] = {
      {"a plain 200 with a lifetime", "GET", "", false, "max-age=60", 200, false, false,
       Storable::kYes},
      {"POST", "POST", "", false, "max-age=60", 200, false, false, Storable::kMethod},
      {"HEAD is served from GET, not stored", "HEAD", "", false, "max-age=60", 200, false, false,
       Storable::kMethod},
      {"response no-store", "GET", "", false, "max-age=60, no-store", 200, false, false,
       Storable::kNoStore},
      {"request no-store", "GET", "no-store", false, "max-age=60", 200, false, false,
       Storable::kNoStore},
      {"private", "GET", "", false, "private, max-age=60", 200, false, false, Storable::kPrivate},
      {"Authorization without permission", "GET", "", true, "max-age=60", 200, false, false,
       Storable::kAuthorization},
      {"Authorization with public", "GET", "", true, "public, max-age=60", 200, false, false,
       Storable::kYes},
      {"Authorization with s-maxage", "GET", "", true, "s-maxage=60", 200, false, false,
       Storable::kYes},
      {"Authorization with must-revalidate", "GET", "", true, "max-age=60, must-revalidate", 200,
       false, false, Storable::kYes},
      {"Set-Cookie", "GET", "", false, "max-age=60", 200, true, false, Storable::kSetCookie},
      {"a 302 needs explicit freshness", "GET", "", false, "", 302, false, true, Storable::kStatus},
      {"a 302 with max-age", "GET", "", false, "max-age=60", 302, false, false, Storable::kYes},
      {"an unknown status", "GET", "", false, "max-age=60", 299, false, false, Storable::kStatus},
      {"a 206 (ranges are not stored yet)", "GET", "", false, "max-age=60", 206, false, false,
       Storable::kStatus},
      {"a 404 is heuristically cacheable", "GET", "", false, "max-age=10", 404, false, false,
       Storable::kYes},
      {"no lifetime and no validator", "GET", "", false, "", 200, false, false,
       Storable::kNoLifetime},
      {"no lifetime, but a validator to revalidate with", "GET", "", false, "no-cache", 200, false,
       true, Storable::kYes},
      {"no lifetime, but leave to serve it when the target fails", "GET", "", false,
       "max-age=0, stale-if-error=600", 200, false, false, Storable::kYes},
  };
  for (const Row& row : rows) {
    StoredResponse r = response(row.response_cc, row.status);
    r.has_etag = row.validator;
    CacheControl request = CacheControl::parse(row.request_cc);
    StoreQuestion q{row.method, &request, row.authorization, &r, row.set_cookie};
    EXPECT_EQ(may_store(q, {}), row.expected)
        << row.what << ": " << storable_name(may_store(q, {}));
  }
  // The policy's default lifetime makes a response without one worth storing.
  StoredResponse bare = response("");
  CacheControl none;
  TtlPolicy defaults;
  defaults.default_ttl = 60;
  EXPECT_EQ(may_store(StoreQuestion{"GET", &none, false, &bare, false}, defaults), Storable::kYes);
}

}  // namespace
}  // namespace ballast::cache
