#include "proxy/circuit_breaker.h"

namespace ballast::proxy {

CircuitBreaker::CircuitBreaker(const config::CircuitBreakerConfig& limits)
    : limits_{limits.max_requests, limits.max_pending_requests, limits.max_connections} {}

bool CircuitBreaker::try_acquire(Kind kind) {
  size_t i = index(kind);
  if (limits_[i] == 0) return true;
  // Optimistic: take the slot, give it back if that went over the limit.
  if (counts_[i].fetch_add(1, std::memory_order_relaxed) >= limits_[i]) {
    counts_[i].fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void CircuitBreaker::release(Kind kind) {
  size_t i = index(kind);
  if (limits_[i] != 0) counts_[i].fetch_sub(1, std::memory_order_relaxed);
}

const char* CircuitBreaker::name(Kind kind) {
  switch (kind) {
    case Kind::kRequests:
      return "max_requests";
    case Kind::kPendingRequests:
      return "max_pending_requests";
    case Kind::kConnections:
      return "max_connections";
  }
  return "limit";
}

}  // namespace ballast::proxy
