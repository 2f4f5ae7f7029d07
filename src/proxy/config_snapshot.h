#pragma once
#include <cstddef>
#include <memory>
#include <vector>

#include "config/config.h"
#include "core/socket_address.h"
#include "proxy/connection_limiter.h"
#include "proxy/target_group_runtime.h"

namespace ballast::proxy {

// One configuration as a worker serves it: the immutable configuration together with the
// runtime of each of its target groups, at that configuration's own group positions.
//
// A request holds the snapshot it started with for its whole life (Envoy snaps its route
// configuration per stream for the same reason), so a rule's resolved group position only
// ever indexes the table it was resolved against, whatever reloads happen meanwhile. Groups
// that two snapshots share by name are one runtime: pools, balancer state and requests in
// flight carry over. A group a reload removes lives on while some request's snapshot still
// holds it, and goes with the last one.
class ConfigSnapshot {
 public:
  // `groups[g]` is the runtime of `config->target_groups[g]`; the sizes must match.
  // `limiters[l]` holds the connection limits of `config->listeners[l]` (shared with the
  // other workers); missing ones are made here (a worker on its own, in tests).
  ConfigSnapshot(std::shared_ptr<const config::Config> config,
                 std::vector<std::shared_ptr<TargetGroupRuntime>> groups,
                 std::vector<std::shared_ptr<ConnectionLimiter>> limiters = {});

  const config::Config& config() const { return *config_; }
  const std::shared_ptr<const config::Config>& shared_config() const { return config_; }
  // The runtime of `config().target_groups[position]`.
  TargetGroupRuntime& group(size_t position) const { return *groups_[position]; }
  const std::vector<std::shared_ptr<TargetGroupRuntime>>& groups() const { return groups_; }
  // The runtime of the group with this name, or null.
  std::shared_ptr<TargetGroupRuntime> find_group(const std::string& name) const;
  // This configuration's listener on `bind`, or null.
  const config::ListenerConfig* find_listener(const core::SocketAddress& bind) const;
  // The connection limits of `listener`, one of this configuration's listeners.
  const std::shared_ptr<ConnectionLimiter>& limiter(const config::ListenerConfig& listener) const;

 private:
  std::shared_ptr<const config::Config> config_;
  std::vector<std::shared_ptr<TargetGroupRuntime>> groups_;
  std::vector<std::shared_ptr<ConnectionLimiter>> limiters_;  // by listener position
};

}  // namespace ballast::proxy
