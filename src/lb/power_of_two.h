#pragma once
#include "lb/balancer.h"
#include "lb/hash.h"

namespace ballast::lb {

// "Power of two choices" (Mitzenmacher): draw two distinct targets at random, weighted,
// and take the less loaded one relative to its weight. Nearly as good as scanning every
// target for the least loaded, O(1) per pick, and it avoids the herd effect of every
// worker sending to the same least-loaded target at once.
//
// Used by least_outstanding_requests (load = requests in flight) and least_connections
// (load = connections in use). With no load anywhere, picks follow the weights.
class PowerOfTwoChoices final : public Balancer {
 public:
  enum class Load { kInFlight, kConnections };
  PowerOfTwoChoices(Load load, uint64_t seed) : load_(load), random_(seed) {}
  int pick(std::span<const TargetState> targets, const PickContext& ctx) override;
  const char* name() const override {
    return load_ == Load::kInFlight ? "least_outstanding_requests" : "least_connections";
  }

 private:
  uint32_t load_of(const TargetState& t) const {
    return load_ == Load::kInFlight ? t.in_flight : t.connections;
  }
  Load load_;
  Random random_;
};

}  // namespace ballast::lb
