#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/socket_address.h"
#include "health/target_health.h"

namespace ballast::proxy {

// One registered target as the workers see it. Published by the control thread; workers
// never see health reasons or timers, only what decides routing.
struct Member {
  std::string address_text;
  core::SocketAddress address;
  uint64_t id = 0;  // lb::hash_bytes(address_text): the identity LB state is keyed by
  uint32_t weight = 1;
  // kHealthy (checks pass, or none), kInitial or kUnhealthy (no traffic unless the group
  // fails open), kDraining (no new requests; its connections close after their response).
  health::TargetHealth health = health::TargetHealth::kHealthy;
  bool healthy() const { return health == health::TargetHealth::kHealthy; }
  bool draining() const { return health == health::TargetHealth::kDraining; }
};

// The targets of one group at one moment. Immutable once published: each change (a
// health transition, a registration, a drain, a reload) publishes a new one with a
// higher version.
struct GroupMembership {
  uint64_t version = 0;
  std::vector<Member> members;
};

}  // namespace ballast::proxy
