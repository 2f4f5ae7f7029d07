#include "db/patroni_keys.h"

#include <nlohmann/json.hpp>

namespace ballast::db {

namespace {
// host:port with a numeric port, the host a name, an IPv4 or a bracketed IPv6 address.
bool host_port(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  for (size_t i = colon + 1; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return text.size() - colon - 1 <= 5;
}
}  // namespace

PatroniKeys::PatroniKeys(const std::string& namespace_path, const std::string& scope,
                         Callbacks callbacks)
    : callbacks_(std::move(callbacks)) {
  prefix_ = namespace_path;
  if (prefix_.empty() || prefix_.back() != '/') prefix_ += '/';
  prefix_ += scope + "/";
}

std::optional<std::string> PatroniKeys::address_of_conn_url(const std::string& url) {
  for (const char* scheme : {"postgres://", "postgresql://"}) {
    if (url.rfind(scheme, 0) != 0) continue;
    std::string rest = url.substr(std::string(scheme).size());
    rest = rest.substr(0, rest.find_first_of("/?"));
    if (size_t at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
    if (!host_port(rest)) return std::nullopt;
    return rest;
  }
  return std::nullopt;
}

std::optional<std::string> PatroniKeys::base_of_api_url(const std::string& url) {
  if (url.rfind("http://", 0) != 0) return std::nullopt;
  std::string rest = url.substr(7);
  rest = rest.substr(0, rest.find('/'));
  if (!host_port(rest)) return std::nullopt;
  return "http://" + rest;
}

std::string PatroniKeys::inconsistency(const cluster::Header& header) const {
  if (cluster_id_ != 0 && header.cluster_id != 0 && header.cluster_id != cluster_id_) {
    return "etcd's cluster id changed";
  }
  if (header.revision < revision_) {
    return "etcd's revision went back from " + std::to_string(revision_) + " to " +
           std::to_string(header.revision);
  }
  return "";
}

bool PatroniKeys::set(const std::string& key, const std::optional<std::string>& value) {
  if (key.rfind(prefix_, 0) != 0) return false;
  std::string rest = key.substr(prefix_.size());
  if (rest == "leader") {
    std::string now = value.value_or("");
    if (now != leader_) {
      leader_ = now;
      if (callbacks_.leader_changed) callbacks_.leader_changed(leader_);
    }
    return false;
  }
  if (rest.rfind("members/", 0) != 0) return false;
  std::string name = rest.substr(8);
  std::optional<DiscoveredMember> member;
  unreadable_.erase(name);
  if (value) {
    nlohmann::json doc = nlohmann::json::parse(*value, nullptr, false);
    std::optional<std::string> address, rest_url;
    if (doc.is_object() && doc.contains("conn_url") && doc["conn_url"].is_string()) {
      address = address_of_conn_url(doc["conn_url"].get<std::string>());
    }
    if (doc.is_object() && doc.contains("api_url") && doc["api_url"].is_string()) {
      rest_url = base_of_api_url(doc["api_url"].get<std::string>());
    }
    if (address && rest_url) {
      member = DiscoveredMember{name, *address, *rest_url};
    } else {
      unreadable_[name] = "no conn_url postgres://HOST:PORT and api_url http://HOST:PORT";
    }
  }
  auto it = members_.find(name);
  if (!member) {
    if (it == members_.end()) return false;
    members_.erase(it);
    return true;
  }
  if (it != members_.end() && it->second == *member) return false;
  members_[name] = *member;
  return true;
}

void PatroniKeys::load(const cluster::RangeReply& reply, const std::string& /*resynced*/) {
  cluster_id_ = reply.header.cluster_id;
  revision_ = reply.header.revision;
  auto before = members_;
  members_.clear();
  unreadable_.clear();
  std::string leader_before = leader_;
  leader_.clear();
  Callbacks quiet = std::move(callbacks_);
  callbacks_ = {};
  for (const auto& kv : reply.kvs) set(kv.key, kv.value);
  callbacks_ = std::move(quiet);
  if (members_ != before && callbacks_.members_changed) callbacks_.members_changed();
  if (leader_ != leader_before && callbacks_.leader_changed) callbacks_.leader_changed(leader_);
}

void PatroniKeys::apply(const cluster::WatchMessage& m) {
  bool changed = false;
  for (const auto& e : m.events) {
    if (e.kv.mod_revision <= revision_) continue;  // already in the copy
    changed |= set(e.kv.key, e.type == cluster::WatchEvent::Type::kPut
                                 ? std::optional<std::string>(e.kv.value)
                                 : std::nullopt);
  }
  // Events of one revision arrive in one message: the copy is at the latest event's revision
  // once all are applied; a progress notice moves it to its header's.
  for (const auto& e : m.events) revision_ = std::max(revision_, e.kv.mod_revision);
  if (!m.created && m.events.empty()) revision_ = std::max(revision_, m.header.revision);
  if (changed && callbacks_.members_changed) callbacks_.members_changed();
}

}  // namespace ballast::db
