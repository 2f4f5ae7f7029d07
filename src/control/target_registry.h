#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "health/target_health.h"
#include "proxy/membership.h"

namespace ballast::control {

// A target's state as ALB reports it.

struct TargetRecord {
  std::string address_text;
  core::SocketAddress address;
  uint64_t id = 0;
  uint32_t weight = 1;
  bool from_config = true;     // a reload replaces config targets; API targets survive it
  std::string owner;           // the autoscaling group that registered it ("": none)
  bool draining = false;       // takes no new requests
  bool deregistering = false;  // removed once drained, or at drain_deadline_ms
  int64_t drain_started_ms = 0;
  int64_t drain_deadline_ms = 0;
  uint64_t drain_version = 0;    // the published membership that told workers (0: not yet)
  std::vector<bool> drained_on;  // per worker: its requests on this target are done
  // What its health checks say (initial, healthy or unhealthy; healthy when unchecked).
  health::TargetHealth health = health::TargetHealth::kInitial;
  health::HealthReason reason = health::HealthReason::kNone;
  std::string detail;  // what the latest failed check saw

  bool drained() const;
};

struct GroupRecord {
  std::string name;
  size_t config_index = 0;  // position in the current config's target_groups
  bool checked = false;     // has active health checks, or its health is a database role
  // Who decides its targets' health: checks, or a database's roles (then its members come
  // from the configuration only, and the API may not change them).
  config::TargetGroupConfig::HealthSource health_source =
      config::TargetGroupConfig::HealthSource::kChecks;
  bool used = false;  // some listener rule forwards to it
  int64_t deregistration_delay_ms = 0;
  std::vector<TargetRecord> targets;
  uint64_t version = 0;  // of the latest published membership
  bool dirty = true;     // changed since it was last published

  health::TargetHealth state_of(const TargetRecord& t) const;
};

// The control thread's authoritative list of every group's targets: who is registered
// (from the config or the API), their weight, health and drain. Workers never read it;
// they get immutable memberships built from it. Pure: the caller passes the time, so
// it is tested without threads or clocks.
class TargetRegistry {
 public:
  explicit TargetRegistry(unsigned workers) : workers_(workers) {}

  // Adopts a (re)loaded configuration. Groups are matched by name, targets by address:
  // a target that stays keeps its health and drain; a config target the file no longer
  // lists is deregistered (drained first); API targets stay while their group exists.
  void load(const config::Config& config, int64_t now_ms);

  // API operations: what happened, and if not done, why (which the API maps to a status).
  struct Outcome {
    enum class Code { kOk, kNotFound, kConflict, kInvalid };
    Code code = Code::kOk;
    std::string message;  // empty when done
    bool ok() const { return code == Code::kOk; }
  };
  Outcome register_target(const std::string& group, const std::string& address, uint32_t weight,
                          const std::string& owner = "");
  Outcome deregister_target(const std::string& group, const std::string& address, int64_t now_ms);
  Outcome set_weight(const std::string& group, const std::string& address, uint32_t weight);
  Outcome drain(const std::string& group, const std::string& address, int64_t now_ms);
  Outcome undrain(const std::string& group, const std::string& address);

  // A database endpoint's members as its monitor knows them, when they are found in Patroni's
  // keys (they come and go): new ones join in `initial` (the monitor decides their health),
  // gone ones leave at once. Returns the addresses it could not take (not numeric IP:PORT).
  std::vector<std::string> set_database_members(const std::string& group,
                                                const std::vector<std::string>& addresses,
                                                int64_t now_ms);

  // A health checker's verdict changed.
  void set_health(const std::string& group, uint64_t id, health::TargetHealth state,
                  health::HealthReason reason, const std::string& detail);
  // Worker `worker` finished its requests on a draining target, as of `version`.
  void drained(const std::string& group, uint64_t id, uint64_t version, unsigned worker);
  // Removes deregistered targets that are drained or past their deadline; returns the
  // addresses removed, as "group/address" (for the log).
  std::vector<std::string> remove_finished(int64_t now_ms);

  // The memberships to publish: every group changed since the last call, with a new
  // version each. Returns (config index, membership) pairs.
  std::vector<std::pair<size_t, std::shared_ptr<const proxy::GroupMembership>>> take_changes();
  // The membership of one group as it stands (without publishing it).
  proxy::GroupMembership membership(const GroupRecord& group) const;

  const std::vector<GroupRecord>& groups() const { return groups_; }
  const GroupRecord* find_group(const std::string& name) const;

 private:
  GroupRecord* group(const std::string& name);
  static TargetRecord* target(GroupRecord& g, const std::string& address);
  // The group and target the API names, or an Outcome saying which is missing.
  std::pair<GroupRecord*, TargetRecord*> lookup(const std::string& group,
                                                const std::string& address, Outcome* outcome);
  void start_drain(GroupRecord& g, TargetRecord& t, int64_t now_ms);

  unsigned workers_;
  uint64_t next_version_ = 1;
  std::vector<GroupRecord> groups_;
};

}  // namespace ballast::control
