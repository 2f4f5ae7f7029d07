#pragma once
#include "lb/balancer.h"

namespace ballast::lb {

// ip_hash: weighted rendezvous (highest random weight) hashing of the client address.
// Every target scores each key, -weight / ln(u) with u a hash of (key, target) in (0, 1);
// the highest score wins. A key stays on its target as long as that target is usable;
// when a target leaves, only its keys move, and when one joins it takes about 1/n of
// the keys, each from whichever target held it. O(n) per pick, which suits groups of up
// to a few hundred targets; ring_hash and maglev are O(log n) and O(1).
class RendezvousHash final : public Balancer {
 public:
  int pick(std::span<const TargetState> targets, const PickContext& ctx) override;
  const char* name() const override { return "ip_hash"; }
};

}  // namespace ballast::lb
