#pragma once
#include <cstdint>

namespace ballast::health {

// A target's state, in ALB's words, and the one vocabulary for it from the health checks to
// the workers: checks say kInitial, kHealthy or kUnhealthy; the registry adds kDraining (no
// new requests; registration, not health, decides it) and kUnused (no rule of any listener
// forwards to its group). A database endpoint adds kFenced: the member is not (or no longer)
// what the endpoint serves, so it gets nothing and its open connections close at once (a
// demoted primary must not take another write through ballast).
enum class TargetHealth : uint8_t { kInitial, kHealthy, kUnhealthy, kDraining, kUnused, kFenced };

// Why a target is unhealthy.
enum class HealthReason : uint8_t {
  kNone,
  kTimeout,          // no (complete) answer within the check's timeout
  kStatus,           // answered with a status outside the matcher
  kConnectRefused,   // the port is closed
  kConnectFailed,    // any other connection error
  kInvalidResponse,  // not an HTTP response
  // Database members (src/db), whose health is their role as Patroni reports it:
  kRole,      // not the role the endpoint serves (a replica on the writer endpoint)
  kLagging,   // a replica further behind than the reader endpoint's max_lag
  kExcluded,  // tagged out of the endpoint (Patroni's noloadbalance), or not running
  kNoStatus,  // Patroni's REST API gave no usable status: the role is unknown
};

const char* to_string(HealthReason r);
const char* to_string(TargetHealth h);

}  // namespace ballast::health
