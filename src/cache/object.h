#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cache/freshness.h"
#include "http/message_head.h"

namespace ballast::cache {

// Counts kept for whoever stores objects (a rule), which the store updates as it drops them.
struct OwnerCounts {
  std::atomic<uint64_t> evicted{0};
};

// A stored response. Immutable once made (the hit count aside), and shared by the store
// and every exchange serving it, so a hit copies nothing but a reference: an object evicted
// or replaced while a client still receives it lives until that client has it.
class Object {
 public:
  struct Parts {
    std::string key;                // the primary key (KeyPolicy)
    std::string url;                // host + target, for purges
    std::vector<std::string> vary;  // the response's Vary lines
    std::string variant;            // the storing request's selection by `vary`
    std::vector<std::string> tags;  // Surrogate-Key / Cache-Tag
    int status = 200;
    std::string reason;
    // The response's end-to-end header lines ("Name: value\r\n"), as ballast sends them:
    // without framing, hop-by-hop fields and Age; coded when ballast compressed the body.
    std::string fields;
    std::string body;
    StoredResponse freshness;
    std::shared_ptr<OwnerCounts> owner;  // the storing rule's counts (null: none)
  };
  static std::shared_ptr<const Object> make(Parts parts);
  // A stored response updated by a 304 (RFC 9111 4.3.4): its freshness is worked out anew
  // from its (updated) fields, with the revalidation's request and response times.
  // `age_value`: the Age the response came with (a file read back keeps it).
  static std::shared_ptr<const Object> make_updated(Parts parts, int64_t request_time,
                                                    int64_t response_time, int64_t age_value = 0);
  // `stored` as a 304 (`update`) to its validators leaves it: the same body, the 304's fields
  // in place of the stored ones of their names (RFC 9111 3.2), fresh from the revalidation.
  static std::shared_ptr<const Object> updated_by(const Object& stored,
                                                  const http::MessageHead& update,
                                                  int64_t request_time, int64_t response_time);

  const std::string& key() const { return parts_.key; }
  const std::string& url() const { return parts_.url; }
  const std::vector<std::string>& vary() const { return parts_.vary; }
  const std::string& variant() const { return parts_.variant; }
  const std::vector<std::string>& tags() const { return parts_.tags; }
  const std::string& body() const { return parts_.body; }
  const std::string& fields() const { return parts_.fields; }
  const StoredResponse& freshness() const { return parts_.freshness; }
  OwnerCounts* owner() const { return parts_.owner.get(); }
  // The stored head as a parsed one: status, reason, header views into fields(), and the
  // body's length as its Content-Length.
  const http::MessageHead& head() const { return head_; }
  std::string_view etag() const { return head_.find("etag"); }
  std::string_view last_modified() const { return head_.find("last-modified"); }
  uint64_t hash() const { return hash_; }
  // Bytes it holds, as the store's capacity counts them.
  uint64_t charge() const { return charge_; }
  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  void count_hit() const { hits_.fetch_add(1, std::memory_order_relaxed); }

  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  // The store's hash of a key (shard, index and admission filter all use it).
  static uint64_t hash_key(std::string_view key);

 private:
  explicit Object(Parts parts);
  Parts parts_;
  http::MessageHead head_;  // views into parts_.fields and parts_.reason
  uint64_t hash_ = 0;
  uint64_t charge_ = 0;
  mutable std::atomic<uint64_t> hits_{0};
};

using ObjectPtr = std::shared_ptr<const Object>;

}  // namespace ballast::cache
