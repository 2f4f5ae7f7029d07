#pragma once
#include <atomic>
#include <cstdint>

#include "config/config.h"

namespace ballast::proxy {

// A target group's circuit breakers (as Envoy's): limits on its requests in flight,
// requests waiting for a new upstream connection, and upstream connections, across every
// worker. Beyond a limit the answer is an immediate 503 instead of a queue that grows
// until everything times out. Shared by the workers through atomics; a limit of 0 means
// none, and then nothing is counted at all.
class CircuitBreaker {
 public:
  enum class Kind { kRequests, kPendingRequests, kConnections };
  explicit CircuitBreaker(const config::CircuitBreakerConfig& limits);

  // Takes a slot (true), or leaves the count as it was when the limit is reached (false).
  bool try_acquire(Kind kind);
  void release(Kind kind);
  uint64_t limit(Kind kind) const { return limits_[index(kind)]; }
  static const char* name(Kind kind);

 private:
  static size_t index(Kind kind) { return static_cast<size_t>(kind); }
  uint64_t limits_[3];
  std::atomic<uint64_t> counts_[3] = {};
};

}  // namespace ballast::proxy
