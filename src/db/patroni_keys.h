#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster/key_watch.h"

namespace ballast::db {

// A member as Patroni registers it in its DCS.
struct DiscoveredMember {
  std::string name;
  std::string address;   // PostgreSQL's HOST:PORT, from conn_url
  std::string rest_url;  // http://HOST:PORT, from api_url
  bool operator==(const DiscoveredMember&) const = default;
};

// Patroni's keys of one cluster in etcd (namespace + scope + "/"): its members (conn_url,
// api_url) and its leader key. Pure: a KeyWatch feeds it; it says when the members or the
// leader changed.
class PatroniKeys final : public cluster::WatchedKeys {
 public:
  struct Callbacks {
    std::function<void()> members_changed;
    // The leader key names a member now ("": it was deleted).
    std::function<void(const std::string& leader)> leader_changed;
  };
  PatroniKeys(const std::string& namespace_path, const std::string& scope, Callbacks callbacks);

  const std::string& prefix() const override { return prefix_; }
  int64_t revision() const override { return revision_; }
  std::string inconsistency(const cluster::Header& header) const override;
  void load(const cluster::RangeReply& reply, const std::string& resynced) override;
  void apply(const cluster::WatchMessage& message) override;

  // By name; members whose conn_url or api_url cannot be read are left out (with why).
  const std::map<std::string, DiscoveredMember>& members() const { return members_; }
  const std::map<std::string, std::string>& unreadable() const { return unreadable_; }
  const std::string& leader() const { return leader_; }

  // "postgres://[USER[:PASSWORD]@]HOST:PORT[/DB][?...]" -> "HOST:PORT"; "http://HOST:PORT/x"
  // -> "http://HOST:PORT". nullopt when it is not one.
  static std::optional<std::string> address_of_conn_url(const std::string& url);
  static std::optional<std::string> base_of_api_url(const std::string& url);

 private:
  // Applies one key's value (nullopt: deleted); true when the members changed.
  bool set(const std::string& key, const std::optional<std::string>& value);

  std::string prefix_;
  Callbacks callbacks_;
  int64_t revision_ = 0;
  uint64_t cluster_id_ = 0;
  std::map<std::string, DiscoveredMember> members_;
  std::map<std::string, std::string> unreadable_;  // name -> why
  std::string leader_;
};

}  // namespace ballast::db
