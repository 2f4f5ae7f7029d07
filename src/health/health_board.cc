#include "health/health_board.h"

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
  }
  return "unknown";
}

HealthBoard::HealthBoard(size_t targets)
    : size_(targets),
      health_(new std::atomic<uint8_t>[targets]),
      reason_(new std::atomic<uint8_t>[targets]) {
  for (size_t i = 0; i < targets; ++i) {
    health_[i].store(static_cast<uint8_t>(TargetHealth::kInitial), std::memory_order_relaxed);
    reason_[i].store(static_cast<uint8_t>(HealthReason::kNone), std::memory_order_relaxed);
  }
}

void HealthBoard::set(size_t i, TargetHealth health, HealthReason reason) {
  reason_[i].store(static_cast<uint8_t>(reason), std::memory_order_release);
  health_[i].store(static_cast<uint8_t>(health), std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace ballast::health
