#include "cluster/etcd_codec.h"

#include <openssl/evp.h>

#include <charconv>

namespace ballast::cluster {

namespace {

using nlohmann::json;

// The gateway writes 64-bit numbers as strings (proto3 JSON); small ones may come bare.
// Revisions and lease ids are signed, cluster and member ids unsigned.
template <typename T>
T number_as(const json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return 0;
  if (it->is_number_integer()) return it->get<T>();
  if (!it->is_string()) throw CodecError(std::string("\"") + field + "\" is not a number");
  const std::string& s = it->get_ref<const std::string&>();
  T value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) {
    throw CodecError(std::string("\"") + field + "\" is not a number: \"" + s + "\"");
  }
  return value;
}

int64_t number(const json& object, const char* field) {
  return number_as<int64_t>(object, field);
}

uint64_t unsigned_number(const json& object, const char* field) {
  return number_as<uint64_t>(object, field);
}

bool flag(const json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return false;
  if (!it->is_boolean()) throw CodecError(std::string("\"") + field + "\" is not a boolean");
  return it->get<bool>();
}

std::string bytes(const json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return {};
  if (!it->is_string()) throw CodecError(std::string("\"") + field + "\" is not a string");
  auto decoded = unbase64(it->get_ref<const std::string&>());
  if (!decoded) throw CodecError(std::string("\"") + field + "\" is not base64");
  return *decoded;
}

const json& object_at(const json& parent, const char* field) {
  static const json kEmpty = json::object();
  auto it = parent.find(field);
  if (it == parent.end() || it->is_null()) return kEmpty;
  if (!it->is_object()) throw CodecError(std::string("\"") + field + "\" is not an object");
  return *it;
}

const json& array_at(const json& parent, const char* field) {
  static const json kEmpty = json::array();
  auto it = parent.find(field);
  if (it == parent.end() || it->is_null()) return kEmpty;
  if (!it->is_array()) throw CodecError(std::string("\"") + field + "\" is not a list");
  return *it;
}

void expect_object(const json& j, const char* what) {
  if (!j.is_object()) throw CodecError(std::string(what) + " is not a JSON object");
}

KeyValue parse_kv(const json& j) {
  expect_object(j, "a key-value");
  KeyValue kv;
  kv.key = bytes(j, "key");
  kv.value = bytes(j, "value");
  kv.create_revision = number(j, "create_revision");
  kv.mod_revision = number(j, "mod_revision");
  kv.version = number(j, "version");
  kv.lease = number(j, "lease");
  return kv;
}

std::vector<KeyValue> parse_kvs(const json& reply) {
  std::vector<KeyValue> out;
  for (const auto& kv : array_at(reply, "kvs")) out.push_back(parse_kv(kv));
  return out;
}

json compare_json(const Compare& c) {
  json j{{"key", base64(c.key)}, {"result", "EQUAL"}};
  switch (c.target) {
    case Compare::Target::kCreateRevision:
      j["target"] = "CREATE";
      j["create_revision"] = std::to_string(c.revision);
      break;
    case Compare::Target::kModRevision:
      j["target"] = "MOD";
      j["mod_revision"] = std::to_string(c.revision);
      break;
    case Compare::Target::kValue:
      j["target"] = "VALUE";
      j["value"] = base64(c.value);
      break;
  }
  return j;
}

json operation_json(const Operation& op) {
  switch (op.kind) {
    case Operation::Kind::kPut:
      return {{"request_put", put_request(op.key, op.value, op.lease)}};
    case Operation::Kind::kDelete: {
      json d{{"key", base64(op.key)}};
      if (op.prefix) d["range_end"] = base64(prefix_end(op.key));
      return {{"request_delete_range", d}};
    }
    case Operation::Kind::kRange:
      return {{"request_range", range_request(op.key, op.prefix)}};
  }
  return {};
}

json operations_json(const std::vector<Operation>& ops) {
  json out = json::array();
  for (const auto& op : ops) out.push_back(operation_json(op));
  return out;
}

}  // namespace

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '=';
    if (!ok) return std::nullopt;
  }
  size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  // '=' only as padding at the end.
  if (text.substr(0, text.size() - padding).find('=') != std::string_view::npos)
    return std::nullopt;
  std::string out(3 * (text.size() / 4), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

json range_request(std::string_view key, bool prefix) {
  json j{{"key", base64(key)}};
  if (prefix) j["range_end"] = base64(prefix_end(key));
  return j;
}

json put_request(std::string_view key, std::string_view value, int64_t lease) {
  json j{{"key", base64(key)}, {"value", base64(value)}};
  if (lease != 0) j["lease"] = std::to_string(lease);
  return j;
}

json txn_request(const std::vector<Compare>& compare, const std::vector<Operation>& success,
                 const std::vector<Operation>& failure) {
  json c = json::array();
  for (const auto& x : compare) c.push_back(compare_json(x));
  return {
      {"compare", c}, {"success", operations_json(success)}, {"failure", operations_json(failure)}};
}

json watch_request(std::string_view prefix, int64_t start_revision) {
  json create{{"key", base64(prefix)},
              {"range_end", base64(prefix_end(prefix))},
              {"start_revision", std::to_string(start_revision)}};
  return {{"create_request", create}};
}

json lease_grant_request(int64_t ttl_seconds) {
  return {{"TTL", std::to_string(ttl_seconds)}};
}

json lease_id_request(int64_t id) {
  return {{"ID", std::to_string(id)}};
}

Header parse_header(const json& reply) {
  expect_object(reply, "the reply");
  const json& h = object_at(reply, "header");
  Header out;
  out.cluster_id = unsigned_number(h, "cluster_id");
  out.member_id = unsigned_number(h, "member_id");
  out.revision = number(h, "revision");
  return out;
}

RangeReply parse_range(const json& reply) {
  RangeReply out;
  out.header = parse_header(reply);
  out.kvs = parse_kvs(reply);
  return out;
}

TxnReply parse_txn(const json& reply) {
  TxnReply out;
  out.header = parse_header(reply);
  out.succeeded = flag(reply, "succeeded");
  for (const auto& r : array_at(reply, "responses")) {
    expect_object(r, "a transaction response");
    auto range = r.find("response_range");
    if (range != r.end()) out.ranges.push_back(parse_kvs(*range));
  }
  return out;
}

WatchMessage parse_watch(const json& message) {
  expect_object(message, "a watch message");
  // The gateway wraps each streamed message: {"result": {...}} or {"error": {...}}.
  auto error = message.find("error");
  if (error != message.end()) {
    std::string why = error_message(*error);
    throw CodecError("the watch failed: " + (why.empty() ? error->dump() : why));
  }
  const json& r = object_at(message, "result");
  WatchMessage out;
  out.header = parse_header(r);
  out.created = flag(r, "created");
  out.canceled = flag(r, "canceled");
  out.compact_revision = number(r, "compact_revision");
  auto reason = r.find("cancel_reason");
  if (reason != r.end() && reason->is_string()) out.cancel_reason = reason->get<std::string>();
  for (const auto& e : array_at(r, "events")) {
    expect_object(e, "a watch event");
    WatchEvent event;
    auto type = e.find("type");
    if (type != e.end() && !type->is_null()) {
      if (!type->is_string() || (*type != "PUT" && *type != "DELETE")) {
        throw CodecError("unknown watch event type " + type->dump());
      }
      if (*type == "DELETE") event.type = WatchEvent::Type::kDelete;
    }
    event.kv = parse_kv(object_at(e, "kv"));
    out.events.push_back(std::move(event));
  }
  return out;
}

LeaseGrant parse_lease_grant(const json& reply) {
  parse_header(reply);
  LeaseGrant out;
  out.id = number(reply, "ID");
  out.ttl_seconds = number(reply, "TTL");
  if (out.id == 0) {
    std::string why = error_message(reply);
    throw CodecError("no lease granted" + (why.empty() ? std::string() : ": " + why));
  }
  return out;
}

int64_t parse_keepalive_ttl(const json& reply) {
  expect_object(reply, "the reply");
  return number(object_at(reply, "result"), "TTL");
}

std::string string_field(const json& object, const char* field) {
  if (!object.is_object()) return {};
  auto it = object.find(field);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string error_message(const json& reply) {
  if (!reply.is_object()) return {};
  for (const char* field : {"message", "error"}) {
    auto it = reply.find(field);
    if (it != reply.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
      return it->get<std::string>();
    }
  }
  return {};
}

}  // namespace ballast::cluster
