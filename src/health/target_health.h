#pragma once
#include <cstdint>

namespace ballast::health {

// What active health checks say of a target, as ALB names it (the registry adds
// draining and unused, which are about registration, not health).
enum class TargetHealth : uint8_t { kInitial, kHealthy, kUnhealthy };

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
