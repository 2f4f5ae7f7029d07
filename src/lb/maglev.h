#pragma once
#include <vector>

#include "lb/balancer.h"

namespace ballast::lb {

// Maglev hashing (Eisenbud et al., NSDI 2016): a lookup table of a prime size M in which
// each target fills slots along its own permutation, in turns weighted by its weight.
// O(1) picks, near-perfect balance (each target holds its weighted share of M slots to
// within one slot per turn), and about 1/n of keys move when a target joins. A key whose
// target is not usable goes to the next slot's target.
class Maglev final : public Balancer {
 public:
  static constexpr uint32_t kDefaultTableSize = 65537;
  explicit Maglev(std::span<const TargetState> targets, uint32_t table_size = kDefaultTableSize);
  int pick(std::span<const TargetState> targets, const PickContext& ctx) override;
  const char* name() const override { return "maglev"; }
  const std::vector<int32_t>& table() const { return table_; }

 private:
  std::vector<int32_t> table_;
};

}  // namespace ballast::lb
