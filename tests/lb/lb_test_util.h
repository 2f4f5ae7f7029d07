#pragma once
#include <string>
#include <vector>

#include "lb/balancer.h"
#include "lb/hash.h"

namespace ballast::lb::testing {

// Targets named "10.0.0.<i>:80" with the given weights, identities hashed as the proxy does.
inline std::vector<TargetState> targets_with_weights(std::initializer_list<uint32_t> weights,
                                                     int first_index = 0) {
  std::vector<TargetState> t;
  int i = first_index;
  for (uint32_t w : weights) {
    TargetState s;
    s.weight = w;
    s.id_hash = hash_bytes("10.0.0." + std::to_string(i++) + ":80");
    t.push_back(s);
  }
  return t;
}

// Share of `picks` per target position.
inline std::vector<double> shares(Balancer& b, const std::vector<TargetState>& t, int picks,
                                  bool hashed) {
  std::vector<double> counts(t.size());
  Random keys(12345);
  for (int i = 0; i < picks; ++i) {
    PickContext ctx{hashed ? keys.next() : 0};
    int p = b.pick(t, ctx);
    if (p >= 0) counts[static_cast<size_t>(p)] += 1;
  }
  for (auto& c : counts) c /= picks;
  return counts;
}

}  // namespace ballast::lb::testing
