#include "lb/power_of_two.h"

#include "lb/weighted_random.h"

namespace ballast::lb {

int PowerOfTwoChoices::pick(std::span<const TargetState> targets, const PickContext&) {
  int a = weighted_draw(targets, random_);
  if (a < 0) return -1;
  int b = weighted_draw(targets, random_, a);
  if (b < 0) return a;  // only one usable target
  const TargetState& ta = targets[static_cast<size_t>(a)];
  const TargetState& tb = targets[static_cast<size_t>(b)];
  // Equal loads (an idle group, say): the first draw, which followed the weights, wins,
  // so light traffic is shared by weight too.
  if (load_of(ta) == load_of(tb)) return a;
  // Compare (load + 1) / weight without division: the +1 counts the request being placed.
  uint64_t score_a = (uint64_t{load_of(ta)} + 1) * tb.weight;
  uint64_t score_b = (uint64_t{load_of(tb)} + 1) * ta.weight;
  return score_b < score_a ? b : a;
}

}  // namespace ballast::lb
