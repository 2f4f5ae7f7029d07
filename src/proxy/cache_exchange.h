#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cache/cache_control.h"
#include "cache/object.h"
#include "cache/store.h"
#include "config/config.h"

namespace ballast::proxy {

class Session;

// A Session waiting for another exchange's fetch of the same key. The wake-up is posted to
// the Session's own thread, where it finds the Session here unless the Session stopped
// waiting (gave up, or closed) and cleared it: both happen on that thread, so no lock.
struct CacheWait {
  Session* session = nullptr;
};

// This exchange leads the fetch of a key: until it is dropped (the response stored, found
// unstorable, or the exchange over whatever happened), the other misses for the key wait.
class FillLease {
 public:
  FillLease(std::shared_ptr<cache::Store> store, std::string key)
      : store_(std::move(store)), key_(std::move(key)) {}
  ~FillLease() { store_->end_fill(key_); }
  FillLease(const FillLease&) = delete;
  FillLease& operator=(const FillLease&) = delete;

 private:
  std::shared_ptr<cache::Store> store_;
  std::string key_;
};

// What the response cache does for one exchange of a rule that caches.
struct CacheExchange {
  // The answer's X-Cache value.
  enum class Outcome {
    kHit,          // served from the store, fresh (or as stale as the client allows)
    kMiss,         // fetched from the target (and stored when it may be)
    kStale,        // served stale: the target failed (stale-if-error)
    kRevalidated,  // the target said 304 to the stored validators: served from the store
    kBypass,       // the cache does not apply (method, a request body, no-store)
  };
  // Where it stands.
  enum class Step {
    kOff,           // the rule does not cache
    kForwarding,    // the request goes to the target (a miss, a bypass)
    kRevalidating,  // ... conditionally, with the stored response's validators
    kWaiting,       // for another exchange's fetch of the key (coalescing)
    kAnswered,      // ballast answered from the store; a target response is dropped
    // stale-while-revalidate: the client has the stale response already; the request goes
    // on to the target (conditionally when it can) only to refresh the store.
    kRefreshing,
  };
  const config::RuleCacheConfig* rule = nullptr;  // in the session's snapshot
  Step step = Step::kOff;
  Outcome outcome = Outcome::kBypass;
  // The Session's copy of the request head (and the URL) are this request's.
  bool head_kept = false;
  bool invalidates = false;  // an unsafe method: a success drops the stored key
  cache::CacheControl request_cc;
  bool request_has_authorization = false;
  bool get = false;  // GET (HEAD is served from GET's entry but never stores one)
  // The client's conditions, copied: the head's views do not outlive it.
  std::string if_none_match, if_modified_since, range, if_range;
  int64_t request_time = 0;  // Unix seconds, when the request left for the target
  cache::ObjectPtr stored;   // being revalidated, or kept for stale-if-error
  std::unique_ptr<FillLease> lease;
  std::shared_ptr<CacheWait> wait;
  // The response being stored, collected as it streams (null: not stored).
  std::unique_ptr<cache::Object::Parts> capture;

  // A GET that goes to the target and whose response the store may take: the client's
  // own conditions are then left out upstream, so that a whole response comes back.
  bool capture_possible() const {
    return get && step == Step::kForwarding && outcome == Outcome::kMiss &&
           !request_cc.has(cache::Directive::kNoStore);
  }
};

const char* cache_outcome_name(CacheExchange::Outcome outcome);

}  // namespace ballast::proxy
