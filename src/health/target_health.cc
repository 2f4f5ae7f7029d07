#include "health/target_health.h"

namespace ballast::health {

const char* to_string(HealthReason r) {
  switch (r) {
    case HealthReason::kNone:
      return "none";
    case HealthReason::kTimeout:
      return "timeout";
    case HealthReason::kStatus:
      return "status";
    case HealthReason::kConnectRefused:
      return "connect refused";
    case HealthReason::kConnectFailed:
      return "connect failed";
    case HealthReason::kInvalidResponse:
      return "invalid response";
    case HealthReason::kRole:
      return "role";
    case HealthReason::kLagging:
      return "lagging";
    case HealthReason::kExcluded:
      return "excluded";
    case HealthReason::kNoStatus:
      return "no status";
  }
  return "unknown";
}

const char* to_string(TargetHealth h) {
  switch (h) {
    case TargetHealth::kInitial:
      return "initial";
    case TargetHealth::kHealthy:
      return "healthy";
    case TargetHealth::kUnhealthy:
      return "unhealthy";
    case TargetHealth::kDraining:
      return "draining";
    case TargetHealth::kUnused:
      return "unused";
    case TargetHealth::kFenced:
      return "fenced";
  }
  return "unknown";
}

}  // namespace ballast::health
