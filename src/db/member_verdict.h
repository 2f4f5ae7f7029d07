#pragma once
#include <cstdint>
#include <string>

#include "db/patroni_status.h"
#include "health/target_health.h"

namespace ballast::db {

// What an endpoint does with one member: the state its target gets in the endpoint's group
// (the registry's vocabulary), why, and in words.
struct EndpointVerdict {
  health::TargetHealth state = health::TargetHealth::kInitial;
  health::HealthReason reason = health::HealthReason::kNone;
  std::string detail;
  bool operator==(const EndpointVerdict&) const = default;
};

// What ballast believes of one member at one moment.
struct MemberView {
  std::string name;
  std::string address;  // PostgreSQL's, as configured
  Role role = Role::kUnknown;
  bool confirmed_primary = false;
  std::string state;  // Patroni's word for PostgreSQL's state; empty while unknown
  std::string error;  // why the status is unknown (REST unreachable, invalid answer)
  uint64_t timeline = 0;
  uint64_t lag_bytes = 0;  // replicas: behind the primary's WAL position
  int64_t lag_ms = 0;      // replicas: behind in time (see LagClock)
  bool replay_paused = false;
  bool nofailover = false;
  bool noloadbalance = false;
  EndpointVerdict writer;
  EndpointVerdict reader;
  bool running() const { return state == "running"; }
};

}  // namespace ballast::db
