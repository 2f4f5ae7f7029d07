#pragma once
#include <string>
#include <utility>
#include <vector>

#include "metrics/histogram.h"

namespace ballast::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Writes the Prometheus text exposition format (version 0.0.4): each family's HELP and
// TYPE once, then its samples; histograms as cumulative _bucket{le}, _sum and _count.
class PrometheusWriter {
 public:
  enum class Type { kCounter, kGauge, kHistogram };
  // Starts a family; samples that follow belong to it until the next family().
  void family(const std::string& name, Type type, const std::string& help);
  void sample(const Labels& labels, double value);
  // Durations in µs, exported in seconds with the standard bucket bounds below.
  void histogram(const Labels& labels, const HistogramSnapshot& h);
  const std::string& text() const { return out_; }

  // Upper bounds of the exported buckets, in seconds (the fine buckets are merged into
  // these; a fine bucket counts under a bound when all of it is at or below it).
  static const std::vector<double>& bucket_bounds();

 private:
  void write_labels(const Labels& labels, const std::string& extra_name = "",
                    const std::string& extra_value = "");
  std::string name_;
  std::string out_;
};

// "a\"b" for label values: backslash, quote and newline escaped.
std::string escape_label_value(const std::string& v);

}  // namespace ballast::metrics
