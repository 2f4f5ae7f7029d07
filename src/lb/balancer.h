#pragma once
#include <cstdint>
#include <span>

namespace ballast::lb {

// What an algorithm may know about each target of a group, by position. The proxy
// fills this from the current snapshot; positions are stable for the life of a balancer.
struct TargetState {
  uint32_t weight = 1;       // 0 means: receives no traffic
  bool eligible = true;      // healthy and not draining (health checks land later)
  uint32_t in_flight = 0;    // requests in progress on this worker
  uint32_t connections = 0;  // upstream connections in use on this worker
  uint32_t ewma_us = 0;      // smoothed time to first response byte; 0 = not measured yet
  uint64_t id_hash = 0;      // hash of the target's identity (its address), for hashing algorithms
};

// Request facts that hash-based algorithms use: the hash of the configured key (source
// IP, a header, a cookie or the path).
struct PickContext {
  uint64_t hash = 0;
};

// One load-balancing algorithm. Pure: no I/O, no clocks, no threads. Each worker
// owns its own instances, so implementations need no synchronisation.
class Balancer {
 public:
  virtual ~Balancer() = default;
  // Returns the position of the chosen target, or -1 when no target is eligible.
  virtual int pick(std::span<const TargetState> targets, const PickContext& ctx) = 0;
  virtual const char* name() const = 0;
};

// A target that may receive traffic.
inline bool usable(const TargetState& t) {
  return t.eligible && t.weight > 0;
}

}  // namespace ballast::lb
