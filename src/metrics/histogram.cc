#include "metrics/histogram.h"

namespace ballast::metrics {

namespace buckets {
uint64_t lower_bound(int i) {
  if (i < kLinear) return static_cast<uint64_t>(i);
  int octave = (i - kLinear) / kPerOctave;  // 0 for [128, 256)
  int sub = (i - kLinear) % kPerOctave;
  int shift = octave + 1;
  return (static_cast<uint64_t>(kPerOctave + sub)) << shift;
}

uint64_t width(int i) {
  if (i < kLinear) return 1;
  return uint64_t{1} << ((i - kLinear) / kPerOctave + 1);
}
}  // namespace buckets

void HistogramSnapshot::add(const Histogram& h) {
  for (int i = 0; i < buckets::kCount; ++i) {
    uint64_t c = h.count_at(i);
    counts_[static_cast<size_t>(i)] += c;
    count_ += c;
  }
  sum_ += h.sum();
}

void HistogramSnapshot::add(const HistogramSnapshot& s) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += s.counts_[i];
  count_ += s.count_;
  sum_ += s.sum_;
}

HistogramSnapshot HistogramSnapshot::minus(const HistogramSnapshot& earlier) const {
  HistogramSnapshot d;
  for (size_t i = 0; i < counts_.size(); ++i) {
    // Counts only grow; a smaller value means the source was replaced (a reload): start over.
    d.counts_[i] = counts_[i] >= earlier.counts_[i] ? counts_[i] - earlier.counts_[i] : counts_[i];
    d.count_ += d.counts_[i];
  }
  d.sum_ = sum_ >= earlier.sum_ ? sum_ - earlier.sum_ : sum_;
  return d;
}

void HistogramSnapshot::record(uint64_t us, uint64_t n) {
  counts_[static_cast<size_t>(buckets::index_of(us))] += n;
  count_ += n;
  sum_ += us * n;
}

namespace {
double middle(int i) {
  return static_cast<double>(buckets::lower_bound(i)) +
         (static_cast<double>(buckets::width(i)) - 1.0) / 2.0;
}
}  // namespace

double HistogramSnapshot::quantile(double q) const {
  if (count_ == 0) return 0;
  if (q < 0) q = 0;
  if (q > 1) q = 1;
  // The rank of the value wanted, 1-based: the smallest value with at least q of all at or
  // below it.
  auto rank = static_cast<uint64_t>(q * static_cast<double>(count_) + 0.5);
  if (rank < 1) rank = 1;
  uint64_t seen = 0;
  for (int i = 0; i < buckets::kCount; ++i) {
    seen += counts_[static_cast<size_t>(i)];
    if (seen >= rank) return middle(i);
  }
  return middle(buckets::kCount - 1);
}

double HistogramSnapshot::min() const {
  for (int i = 0; i < buckets::kCount; ++i) {
    if (counts_[static_cast<size_t>(i)] != 0) return middle(i);
  }
  return 0;
}

double HistogramSnapshot::max() const {
  for (int i = buckets::kCount - 1; i >= 0; --i) {
    if (counts_[static_cast<size_t>(i)] != 0) return middle(i);
  }
  return 0;
}

uint64_t HistogramSnapshot::count_at_most(uint64_t us) const {
  uint64_t n = 0;
  for (int i = 0; i < buckets::kCount; ++i) {
    if (buckets::lower_bound(i) + buckets::width(i) - 1 > us) break;
    n += counts_[static_cast<size_t>(i)];
  }
  return n;
}

}  // namespace ballast::metrics
