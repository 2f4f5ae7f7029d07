#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "metrics/counter.h"

namespace ballast::metrics {

// Log-linear buckets for durations in microseconds, as HdrHistogram lays them out: exact
// below 128 µs, then each power of two split into 64 equal buckets. A bucket is at most
// 1/64 of its lower bound wide, so reporting its middle is within 0.8% of any value in it:
// quantiles within 1% from 1 µs to 60 s (and beyond: up to 2^32 µs, about 71 min).
namespace buckets {
constexpr int kLinear = 128;  // values 0..127 each have their own bucket
constexpr int kPerOctave = 64;
constexpr int kOctaves = 25;  // [2^7, 2^8) .. [2^31, 2^32)
constexpr int kCount = kLinear + kOctaves * kPerOctave;
constexpr uint64_t kMax = (uint64_t{1} << 32) - 1;

inline int index_of(uint64_t v) {
  if (v < kLinear) return static_cast<int>(v);
  if (v > kMax) v = kMax;
  int e = 63 - __builtin_clzll(v);  // 7 and up
  int shift = e - 6;
  return kLinear + (e - 7) * kPerOctave + static_cast<int>((v >> shift) - kPerOctave);
}
// The smallest value of bucket i, and its width.
uint64_t lower_bound(int i);
uint64_t width(int i);
}  // namespace buckets

// A histogram written by one thread, read by another (see Counter).
class Histogram {
 public:
  void record(uint64_t us) {
    counts_[static_cast<size_t>(buckets::index_of(us))].add();
    sum_.add(us);
  }
  uint64_t count_at(int i) const { return counts_[static_cast<size_t>(i)].get(); }
  uint64_t sum() const { return sum_.get(); }

 private:
  std::array<Counter, buckets::kCount> counts_;
  Counter sum_;
};

// A histogram's counts at one moment, or merged from several (workers, seconds). Sparse
// in memory users (the time-series store) via nonzero(); dense here.
class HistogramSnapshot {
 public:
  HistogramSnapshot() : counts_(buckets::kCount, 0) {}
  void add(const Histogram& h);
  void add(const HistogramSnapshot& s);
  // The difference from an earlier snapshot of the same histogram.
  HistogramSnapshot minus(const HistogramSnapshot& earlier) const;
  void record(uint64_t us, uint64_t n = 1);

  uint64_t count() const { return count_; }
  uint64_t sum() const { return sum_; }
  uint64_t count_at(int i) const { return counts_[static_cast<size_t>(i)]; }
  // The value at quantile q (0..1): the middle of the bucket holding it; 0 when empty.
  double quantile(double q) const;
  double min() const;
  double max() const;
  // How many values are at most `us` (by bucket: a bucket counts when all of it is).
  uint64_t count_at_most(uint64_t us) const;

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
};

}  // namespace ballast::metrics
