#include "db/patroni_status.h"

#include <nlohmann/json.hpp>

namespace ballast::db {

const char* to_string(Role role) {
  switch (role) {
    case Role::kUnknown:
      return "unknown";
    case Role::kPrimary:
      return "primary";
    case Role::kReplica:
      return "replica";
    case Role::kStandbyLeader:
      return "standby_leader";
  }
  return "unknown";
}

namespace {

using nlohmann::json;

// Patroni 3.0 says "master", later versions "primary".
Role role_from(const std::string& text) {
  if (text == "master" || text == "primary") return Role::kPrimary;
  if (text == "replica") return Role::kReplica;
  if (text == "standby_leader") return Role::kStandbyLeader;
  return Role::kUnknown;
}

// A tag is on when it is true (Patroni also accepts the strings "true"/"on").
bool tag_on(const json& tags, const char* name) {
  auto it = tags.find(name);
  if (it == tags.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) {
    const auto& v = it->get_ref<const std::string&>();
    return v == "true" || v == "on" || v == "yes";
  }
  return false;
}

std::string string_or_empty(const json& object, const char* field) {
  auto it = object.find(field);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A WAL position: a non-negative integer (absent: 0).
bool read_position(const json& xlog, const char* name, uint64_t* out, std::string* error) {
  auto it = xlog.find(name);
  if (it == xlog.end() || it->is_null()) return true;
  if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
    *error = std::string("xlog.") + name + " is not a WAL position";
    return false;
  }
  *out = it->get<uint64_t>();
  return true;
}

bool read_xlog(const json& doc, PatroniStatus& s, std::string* error) {
  auto it = doc.find("xlog");
  if (it == doc.end()) return true;
  if (!it->is_object()) {
    *error = "xlog is not an object";
    return false;
  }
  if (!read_position(*it, "location", &s.wal_position, error) ||
      !read_position(*it, "received_location", &s.received, error) ||
      !read_position(*it, "replayed_location", &s.replayed, error)) {
    return false;
  }
  auto paused = it->find("paused");
  s.replay_paused = paused != it->end() && paused->is_boolean() && paused->get<bool>();
  return true;
}

}  // namespace

std::optional<PatroniStatus> parse_patroni_status(int http_status, std::string_view body,
                                                  std::string* error) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    *error = "the answer is not a JSON object";
    return std::nullopt;
  }
  PatroniStatus s;
  auto state = doc.find("state");
  auto role = doc.find("role");
  if (state == doc.end() || !state->is_string() || role == doc.end() || !role->is_string()) {
    *error = "the answer has no state and role";
    return std::nullopt;
  }
  s.state = state->get<std::string>();
  s.role = role_from(role->get<std::string>());
  if (auto t = doc.find("timeline"); t != doc.end() && t->is_number_unsigned()) {
    s.timeline = t->get<uint64_t>();
  }
  if (!read_xlog(doc, s, error)) return std::nullopt;
  if (auto tags = doc.find("tags"); tags != doc.end() && tags->is_object()) {
    s.nofailover = tag_on(*tags, "nofailover");
    s.noloadbalance = tag_on(*tags, "noloadbalance");
  }
  if (auto p = doc.find("patroni"); p != doc.end() && p->is_object()) {
    if (auto scope = p->find("scope"); scope != p->end() && scope->is_string()) {
      s.scope = scope->get<std::string>();
    }
  }
  if (auto r = doc.find("replication"); r != doc.end() && r->is_array()) {
    for (const auto& sender : *r) {
      if (!sender.is_object()) continue;
      std::string name = string_or_empty(sender, "application_name");
      if (!name.empty() && string_or_empty(sender, "state") == "streaming") {
        s.streaming.push_back(name);
      }
    }
  }
  auto unlocked = doc.find("cluster_unlocked");
  s.cluster_unlocked = unlocked != doc.end() && unlocked->is_boolean() && unlocked->get<bool>();
  // The verdict needs both: the agent's 200, and a status that agrees with it.
  s.confirmed_primary = http_status == 200 && s.role == Role::kPrimary && s.running();
  return s;
}

}  // namespace ballast::db
