#pragma once
#include <cstdint>

namespace ballast::health {

// A target's state, in ALB's words, and the one vocabulary for it from the health checks to
// the workers: checks say kInitial, kHealthy or kUnhealthy; the registry adds kDraining (no
// new requests; registration, not health, decides it) and kUnused (no rule of any listener
// forwards to its group).
enum class TargetHealth : uint8_t { kInitial, kHealthy, kUnhealthy, kDraining, kUnused };

// Why a target is unhealthy.
enum class HealthReason : uint8_t {
  kNone,
  kTimeout,          // no (complete) answer within the check's timeout
  kStatus,           // answered with a status outside the matcher
  kConnectRefused,   // the port is closed
  kConnectFailed,    // any other connection error
  kInvalidResponse,  // not an HTTP response
};

const char* to_string(HealthReason r);
const char* to_string(TargetHealth h);

}  // namespace ballast::health
