#include "metrics/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace ballast::metrics {
namespace {

TEST(HistogramBucketsTest, EveryValueFallsInItsBucket) {
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 129ull, 255ull, 256ull, 1000ull, 65535ull,
                     1000000ull, 60000000ull, (1ull << 32) - 1}) {
    int i = buckets::index_of(v);
    ASSERT_GE(i, 0);
    ASSERT_LT(i, buckets::kCount);
    EXPECT_LE(buckets::lower_bound(i), v) << v;
    EXPECT_LT(v, buckets::lower_bound(i) + buckets::width(i)) << v;
  }
  EXPECT_EQ(buckets::index_of(uint64_t{1} << 40), buckets::kCount - 1) << "clamped, not lost";
}

TEST(HistogramBucketsTest, BucketsAreContiguousAndNarrow) {
  for (int i = 1; i < buckets::kCount; ++i) {
    ASSERT_EQ(buckets::lower_bound(i), buckets::lower_bound(i - 1) + buckets::width(i - 1)) << i;
    if (buckets::lower_bound(i) >= 128) {
      EXPECT_LE(static_cast<double>(buckets::width(i)) / buckets::lower_bound(i), 1.0 / 64) << i;
    }
  }
}

// The exact quantile of sorted data, by the same rank rule as HistogramSnapshot.
double exact_quantile(const std::vector<uint64_t>& sorted, double q) {
  auto rank = static_cast<uint64_t>(q * static_cast<double>(sorted.size()) + 0.5);
  if (rank < 1) rank = 1;
  return static_cast<double>(sorted[rank - 1]);
}

TEST(HistogramSnapshotTest, QuantilesWithinOnePercentFromOneMicrosecondToSixtySeconds) {
  std::mt19937_64 rng(12345);
  // Log-uniform from 1 µs to 60 s, so every octave is exercised.
  std::uniform_real_distribution<double> exponent(0, std::log(60e6));
  for (int trial = 0; trial < 20; ++trial) {
    HistogramSnapshot h;
    std::vector<uint64_t> values;
    for (int i = 0; i < 5000; ++i) {
      auto v = static_cast<uint64_t>(std::exp(exponent(rng)));
      values.push_back(v);
      h.record(v);
    }
    std::sort(values.begin(), values.end());
    for (double q : {0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0}) {
      double exact = exact_quantile(values, q);
      double got = h.quantile(q);
      EXPECT_LE(std::fabs(got - exact), std::max(0.01 * exact, 0.5))
          << "q=" << q << " exact=" << exact << " got=" << got;
    }
    EXPECT_EQ(h.count(), 5000u);
  }
}

TEST(HistogramSnapshotTest, MergesAcrossWorkersAndTime) {
  Histogram a, b;
  for (uint64_t v = 1; v <= 1000; ++v) a.record(v);
  for (uint64_t v = 1001; v <= 2000; ++v) b.record(v);
  HistogramSnapshot merged;
  merged.add(a);
  merged.add(b);
  EXPECT_EQ(merged.count(), 2000u);
  EXPECT_EQ(merged.sum(), 2000u * 2001u / 2);
  EXPECT_NEAR(merged.quantile(0.5), 1000, 10);
  HistogramSnapshot first;
  first.add(a);
  HistogramSnapshot later = merged.minus(first);
  EXPECT_EQ(later.count(), 1000u);
  EXPECT_NEAR(later.quantile(0.5), 1500, 15);
  EXPECT_NEAR(later.min(), 1001, 10);
  EXPECT_NEAR(later.max(), 2000, 20);
  // The bucket holding 1000 reaches to 1007: it counts only under a bound that covers it.
  EXPECT_EQ(merged.count_at_most(999), 999u);
  EXPECT_EQ(merged.count_at_most(1007), 1007u);
}

TEST(HistogramSnapshotTest, EmptyIsZero) {
  HistogramSnapshot h;
  EXPECT_EQ(h.quantile(0.99), 0);
  EXPECT_EQ(h.count(), 0u);
}

}  // namespace
}  // namespace ballast::metrics
