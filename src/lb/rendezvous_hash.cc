#include "lb/rendezvous_hash.h"

#include <cmath>

#include "lb/hash.h"

namespace ballast::lb {

int RendezvousHash::pick(std::span<const TargetState> targets, const PickContext& ctx) {
  int best = -1;
  double best_score = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    const TargetState& t = targets[i];
    if (!usable(t)) continue;
    // 53 random bits mapped into (0, 1): never 0, so the logarithm is finite.
    double u = (static_cast<double>(mix64(ctx.hash ^ t.id_hash) >> 11) + 0.5) * 0x1.0p-53;
    double score = -static_cast<double>(t.weight) / std::log(u);
    if (best < 0 || score > best_score) {
      best = static_cast<int>(i);
      best_score = score;
    }
  }
  return best;
}

}  // namespace ballast::lb
