#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace ballast::health {

// Target states as ALB names them (draining and unused arrive with deregistration).
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

// The health of one group's targets, written by the health checker's thread and read by
// every worker. Per-target atomics, plus a generation that changes with any state, so a
// worker notices a change with one relaxed load per request and rereads only then.
class HealthBoard {
 public:
  explicit HealthBoard(size_t targets);
  size_t size() const { return size_; }

  void set(size_t i, TargetHealth health, HealthReason reason);
  TargetHealth health(size_t i) const {
    return static_cast<TargetHealth>(health_[i].load(std::memory_order_acquire));
  }
  HealthReason reason(size_t i) const {
    return static_cast<HealthReason>(reason_[i].load(std::memory_order_acquire));
  }
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  size_t size_;
  std::unique_ptr<std::atomic<uint8_t>[]> health_;
  std::unique_ptr<std::atomic<uint8_t>[]> reason_;
  std::atomic<uint64_t> generation_{1};
};

}  // namespace ballast::health
