#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ballast::cache {

// TinyLFU's frequency estimate (Einziger, Friedman and Manes, "TinyLFU: A Highly
// Efficient Cache Admission Policy", 2017): a count-min sketch of 4-bit counters, four per
// key, whose counters are all halved once `10 × width` accesses were counted, so that
// the past fades and a key once popular does not stay so forever. A one-off scan counts
// each key once, never enough to push out what is requested again and again: this is what
// makes the store's LRU resist scans.
class FrequencySketch {
 public:
  // `expected_keys`: about how many keys the store holds. Each row has four counters per
  // expected key (rounded up to a power of two, at least 256), 8 bytes per key in all: at
  // that load a key's four counters all collide with others' for about 1 key in 400.
  explicit FrequencySketch(size_t expected_keys);

  void increment(uint64_t hash);
  // The smallest of the key's four counters: 0..15.
  unsigned estimate(uint64_t hash) const;
  // Halves every counter (done by increment() itself after each sample period).
  void age();

 private:
  static constexpr unsigned kRows = 4;
  size_t index(uint64_t hash, unsigned row) const;
  unsigned counter(size_t i) const { return (table_[i / 16] >> ((i % 16) * 4)) & 0xF; }

  std::vector<uint64_t> table_;  // kRows × width_ counters of 4 bits, 16 per word
  size_t width_;                 // counters per row, a power of two
  size_t sample_;                // increments between agings: 10 per expected key
  size_t increments_ = 0;
};

}  // namespace ballast::cache
