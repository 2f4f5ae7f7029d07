#pragma once
#include <cstdint>
#include <string_view>

namespace ballast::lb {

// SplitMix64's finaliser: a fast bijective mix with good avalanche, used to combine and
// spread hashes.
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

// A stable 64-bit hash of bytes (FNV-1a, then mixed). Stable across runs and builds, so
// hash-based routing does not move keys when ballast restarts.
inline uint64_t hash_bytes(std::string_view s, uint64_t seed = 0) {
  uint64_t h = 0xcbf29ce484222325ull ^ mix64(seed);
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return mix64(h);
}

// A small, fast pseudo-random source (xorshift64*), one per balancer.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(mix64(seed) | 1) {}
  uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545f4914f6cdd1dull;
  }
  // Uniform in [0, n), n > 0 (Lemire's multiply-shift; the bias is negligible here).
  uint64_t below(uint64_t n) {
    __extension__ using u128 = unsigned __int128;
    return static_cast<uint64_t>((static_cast<u128>(next()) * n) >> 64);
  }

 private:
  uint64_t state_;
};

}  // namespace ballast::lb
