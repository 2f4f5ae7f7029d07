#include "cache/frequency_sketch.h"

#include <algorithm>
#include <bit>

namespace ballast::cache {

FrequencySketch::FrequencySketch(size_t expected_keys)
    : width_(std::bit_ceil(std::max<size_t>(256, 4 * expected_keys))),
      sample_(10 * std::max<size_t>(64, expected_keys)) {
  table_.assign(kRows * width_ / 16, 0);
}

size_t FrequencySketch::index(uint64_t hash, unsigned row) const {
  // Each row takes other bits of a remixed hash (one multiply-xorshift per row).
  static constexpr uint64_t kSeeds[kRows] = {0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full,
                                             0x165667B19E3779F9ull, 0xD6E8FEB86659FD93ull};
  uint64_t h = (hash ^ (hash >> 29)) * kSeeds[row];
  h ^= h >> 32;
  return row * width_ + (h & (width_ - 1));
}

void FrequencySketch::increment(uint64_t hash) {
  bool added = false;
  for (unsigned row = 0; row < kRows; ++row) {
    size_t i = index(hash, row);
    if (counter(i) == 15) continue;
    table_[i / 16] += uint64_t{1} << ((i % 16) * 4);
    added = true;
  }
  if (added && ++increments_ >= sample_) age();
}

unsigned FrequencySketch::estimate(uint64_t hash) const {
  unsigned least = 15;
  for (unsigned row = 0; row < kRows; ++row) {
    unsigned c = counter(index(hash, row));
    if (c < least) least = c;
  }
  return least;
}

void FrequencySketch::age() {
  // Each 4-bit counter shifts right by one; the mask drops the bit that crossed from the
  // counter above.
  for (uint64_t& word : table_) word = (word >> 1) & 0x7777777777777777ull;
  increments_ /= 2;
}

}  // namespace ballast::cache
