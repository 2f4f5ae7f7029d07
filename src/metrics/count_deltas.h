#pragma once
#include <map>

namespace ballast::metrics {

// Turns cumulative counts, read once per interval, into each interval's increase, per key.
template <typename Key>
class CountDeltas {
 public:
  // The increase of `key`'s count since the last call. The first sight of a key only sets
  // its baseline (counts since the process started are not this interval's); a count that
  // went down was reset (a worker's block was replaced), so the new value is all new.
  double delta(const Key& key, double cumulative) {
    auto [it, fresh] = last_.try_emplace(key, cumulative);
    double d = fresh ? 0 : (cumulative >= it->second ? cumulative - it->second : cumulative);
    it->second = cumulative;
    return d;
  }
  // Drops the baselines of the keys `gone` selects (ones that will not be read again).
  template <typename Pred>
  void forget_if(Pred gone) {
    std::erase_if(last_, [&](const auto& kv) { return gone(kv.first); });
  }

 private:
  std::map<Key, double> last_;
};

}  // namespace ballast::metrics
