#include "metrics/prometheus.h"

#include <gtest/gtest.h>

namespace ballast::metrics {
namespace {

TEST(PrometheusWriterTest, WritesFamiliesSamplesAndHistograms) {
  PrometheusWriter w;
  w.family("x_total", PrometheusWriter::Type::kCounter, "Things.");
  w.sample({{"group", "a\"b\\c\nd"}}, 3);
  w.family("t_seconds", PrometheusWriter::Type::kHistogram, "Times.");
  HistogramSnapshot h;
  h.record(700);      // 0.7 ms
  h.record(2000000);  // 2 s
  w.histogram({{"g", "x"}}, h);
  const std::string& t = w.text();
  EXPECT_NE(t.find("# HELP x_total Things.\n# TYPE x_total counter\n"), std::string::npos) << t;
  EXPECT_NE(t.find("x_total{group=\"a\\\"b\\\\c\\nd\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("t_seconds_bucket{g=\"x\",le=\"0.0005\"} 0\n"), std::string::npos) << t;
  EXPECT_NE(t.find("t_seconds_bucket{g=\"x\",le=\"0.001\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("t_seconds_bucket{g=\"x\",le=\"2.5\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("t_seconds_bucket{g=\"x\",le=\"+Inf\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("t_seconds_sum{g=\"x\"} 2.0007\n"), std::string::npos) << t;
  EXPECT_NE(t.find("t_seconds_count{g=\"x\"} 2\n"), std::string::npos) << t;
}

}  // namespace
}  // namespace ballast::metrics
