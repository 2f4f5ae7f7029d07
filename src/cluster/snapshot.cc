#include "cluster/snapshot.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"

namespace ballast::cluster {

std::string snapshot_path(const std::string& dir) {
  return (std::filesystem::path(dir) / "config.snapshot").string();
}

bool save_snapshot(const std::string& dir, const Snapshot& s, std::string* error) {
  nlohmann::json j{{"cluster_id", std::to_string(s.cluster_id)},
                   {"revision", s.revision},
                   {"saved_unix", s.saved_unix},
                   {"config", s.config},
                   {"targets", nlohmann::json::array()}};
  for (const auto& t : s.targets) {
    j["targets"].push_back({{"key", t.key}, {"value", t.value}, {"mod_revision", t.mod_revision}});
  }
  std::string text = j.dump(1) + "\n";
  return core::write_file_atomically(snapshot_path(dir), text, 0600, error);
}

std::optional<Snapshot> load_snapshot(const std::string& dir, std::string* error) {
  std::string path = snapshot_path(dir);
  std::ifstream in(path);
  if (!in) {
    if (errno != ENOENT) *error = "cannot read " + path + ": " + strerror(errno);
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    auto j = nlohmann::json::parse(text.str());
    Snapshot s;
    s.cluster_id = std::stoull(j.at("cluster_id").get<std::string>());
    s.revision = j.at("revision").get<int64_t>();
    s.saved_unix = j.at("saved_unix").get<int64_t>();
    s.config = j.at("config").get<std::string>();
    for (const auto& t : j.value("targets", nlohmann::json::array())) {
      KeyValue kv;
      kv.key = t.at("key").get<std::string>();
      kv.value = t.at("value").get<std::string>();
      kv.mod_revision = t.at("mod_revision").get<int64_t>();
      kv.create_revision = kv.mod_revision;
      s.targets.push_back(std::move(kv));
    }
    return s;
  } catch (const std::exception& e) {
    *error = path + " is damaged (" + e.what() + "); delete it to start without it";
    return std::nullopt;
  }
}

}  // namespace ballast::cluster
