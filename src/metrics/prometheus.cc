#include "metrics/prometheus.h"

#include <cmath>
#include <cstdio>

namespace ballast::metrics {

namespace {
std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Integers print without a fraction; others with enough digits to round-trip.
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    snprintf(buf, sizeof(buf), "%.9g", v);
  }
  return buf;
}

const char* type_name(PrometheusWriter::Type t) {
  switch (t) {
    case PrometheusWriter::Type::kCounter:
      return "counter";
    case PrometheusWriter::Type::kGauge:
      return "gauge";
    case PrometheusWriter::Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}
}  // namespace

std::string escape_label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

const std::vector<double>& PrometheusWriter::bucket_bounds() {
  static const std::vector<double> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                              0.25,   0.5,   1,      2.5,   5,    10,    30,   60};
  return kBounds;
}

void PrometheusWriter::family(const std::string& name, Type type, const std::string& help) {
  name_ = name;
  out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type_name(type) + "\n";
}

void PrometheusWriter::write_labels(const Labels& labels, const std::string& extra_name,
                                    const std::string& extra_value) {
  if (labels.empty() && extra_name.empty()) return;
  out_ += "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out_ += ",";
    first = false;
    out_ += k + "=\"" + escape_label_value(v) + "\"";
  }
  if (!extra_name.empty()) {
    if (!first) out_ += ",";
    out_ += extra_name + "=\"" + extra_value + "\"";
  }
  out_ += "}";
}

void PrometheusWriter::sample(const Labels& labels, double value) {
  out_ += name_;
  write_labels(labels);
  out_ += " " + number(value) + "\n";
}

void PrometheusWriter::histogram(const Labels& labels, const HistogramSnapshot& h) {
  for (double bound : bucket_bounds()) {
    out_ += name_ + "_bucket";
    write_labels(labels, "le", number(bound));
    out_ += " " + number(static_cast<double>(h.count_at_most(static_cast<uint64_t>(bound * 1e6)))) +
            "\n";
  }
  out_ += name_ + "_bucket";
  write_labels(labels, "le", "+Inf");
  out_ += " " + number(static_cast<double>(h.count())) + "\n";
  out_ += name_ + "_sum";
  write_labels(labels);
  out_ += " " + number(static_cast<double>(h.sum()) / 1e6) + "\n";
  out_ += name_ + "_count";
  write_labels(labels);
  out_ += " " + number(static_cast<double>(h.count())) + "\n";
}

}  // namespace ballast::metrics
