#include "lb/maglev.h"

#include <algorithm>

#include "lb/hash.h"

namespace ballast::lb {

Maglev::Maglev(std::span<const TargetState> targets, uint32_t table_size) {
  const uint64_t m = table_size;
  uint32_t max_weight = 0;
  for (const auto& t : targets) max_weight = std::max(max_weight, t.weight);
  if (max_weight == 0 || m < 2) return;
  struct Permutation {
    uint64_t offset, skip, next = 0;
    double credit = 0;
  };
  std::vector<Permutation> perms;
  for (const auto& t : targets) {
    perms.push_back(Permutation{mix64(t.id_hash ^ 0x6a09e667f3bcc908ull) % m,
                                mix64(t.id_hash ^ 0xbb67ae8584caa73bull) % (m - 1) + 1});
  }
  table_.assign(m, -1);
  uint64_t filled = 0;
  // In each turn a target gains weight/max_weight of a slot; it places one entry per
  // whole slot of credit, at the next free position of its permutation.
  while (filled < m) {
    for (size_t i = 0; i < targets.size() && filled < m; ++i) {
      if (targets[i].weight == 0) continue;
      Permutation& p = perms[i];
      p.credit += static_cast<double>(targets[i].weight) / max_weight;
      while (p.credit >= 1.0 && filled < m) {
        uint64_t slot;
        do {
          slot = (p.offset + p.next * p.skip) % m;
          ++p.next;
        } while (table_[slot] >= 0);
        table_[slot] = static_cast<int32_t>(i);
        ++filled;
        p.credit -= 1.0;
      }
    }
  }
}

int Maglev::pick(std::span<const TargetState> targets, const PickContext& ctx) {
  if (table_.empty()) return -1;
  const size_t m = table_.size();
  size_t slot = ctx.hash % m;
  for (size_t step = 0; step < m; ++step) {
    int32_t t = table_[(slot + step) % m];
    if (t >= 0 && static_cast<size_t>(t) < targets.size() &&
        usable(targets[static_cast<size_t>(t)]))
      return t;
  }
  return -1;
}

}  // namespace ballast::lb
