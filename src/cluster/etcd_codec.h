#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

// The etcd v3 JSON gateway's messages (etcd's api/etcdserverpb/rpc.proto as the gateway
// renders it: keys and values base64, 64-bit numbers as strings, fields at their zero value
// left out). Pure: no I/O, so every reply shape is unit-tested and fuzzed.
namespace ballast::cluster {

// A reply that is not what the gateway sends; the message says what was wrong.
class CodecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string base64(std::string_view bytes);
// Standard base64 with padding; nullopt for anything else.
std::optional<std::string> unbase64(std::string_view text);
// The range_end that selects every key starting with `prefix` (etcd's "prefix + 1").
std::string prefix_end(std::string_view prefix);

struct Header {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  int64_t revision = 0;
};

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

struct RangeReply {
  Header header;
  std::vector<KeyValue> kvs;
};

// One condition of a transaction, on one key.
struct Compare {
  enum class Target { kCreateRevision, kModRevision, kValue };
  std::string key;
  Target target = Target::kModRevision;
  int64_t revision = 0;  // kCreateRevision / kModRevision (0: the key does not exist)
  std::string value;     // kValue
};

// One operation of a transaction.
struct Operation {
  enum class Kind { kPut, kDelete, kRange };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;    // kPut
  int64_t lease = 0;    // kPut
  bool prefix = false;  // kDelete, kRange: every key under `key`
};

struct TxnReply {
  Header header;
  bool succeeded = false;
  // What the range operations of the branch that ran found, in order.
  std::vector<std::vector<KeyValue>> ranges;
};

struct WatchEvent {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;  // for a delete: the key and its mod_revision (the deletion's)
};

// One message of a watch stream.
struct WatchMessage {
  Header header;
  bool created = false;
  bool canceled = false;
  int64_t compact_revision = 0;  // set when the asked revision was compacted away
  std::string cancel_reason;
  std::vector<WatchEvent> events;
};

struct LeaseGrant {
  int64_t id = 0;
  int64_t ttl_seconds = 0;
};

// Request bodies.
nlohmann::json range_request(std::string_view key, bool prefix);
nlohmann::json put_request(std::string_view key, std::string_view value, int64_t lease = 0);
nlohmann::json txn_request(const std::vector<Compare>& compare,
                           const std::vector<Operation>& success,
                           const std::vector<Operation>& failure);
nlohmann::json watch_request(std::string_view prefix, int64_t start_revision);
nlohmann::json lease_grant_request(int64_t ttl_seconds);
nlohmann::json lease_id_request(int64_t id);  // keepalive, revoke

// Replies; each throws CodecError on a body of the wrong shape.
Header parse_header(const nlohmann::json& reply);
RangeReply parse_range(const nlohmann::json& reply);
TxnReply parse_txn(const nlohmann::json& reply);
WatchMessage parse_watch(const nlohmann::json& message);
LeaseGrant parse_lease_grant(const nlohmann::json& reply);
// A keepalive's remaining TTL: 0 when the lease is gone.
int64_t parse_keepalive_ttl(const nlohmann::json& reply);
// The gateway's error body ({"error": ..., "code": ..., "message": ...}); empty if none.
std::string error_message(const nlohmann::json& reply);
// `object[field]` when it is a string, else empty: for values read from etcd, which any
// client could have written.
std::string string_field(const nlohmann::json& object, const char* field);

}  // namespace ballast::cluster
