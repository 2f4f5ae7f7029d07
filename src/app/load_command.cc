// `ballast load URL`: an open-loop load generator for scaling experiments.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "load/load_runner.h"

namespace ballast::app {

namespace {

void print_summary(const load::LoadReport& r) {
  const auto& h = r.latency;
  printf("requests  %llu scheduled, %llu completed, %llu ok, %llu errors in %.1fs\n",
         static_cast<unsigned long long>(r.scheduled), static_cast<unsigned long long>(r.completed),
         static_cast<unsigned long long>(r.ok), static_cast<unsigned long long>(r.errors_total()),
         r.elapsed_s);
  printf("throughput %.1f responses/s\n", r.elapsed_s > 0 ? r.completed / r.elapsed_s : 0);
  printf(
      "latency (from the intended send time) ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  "
      "max %.2f\n",
      h.quantile(0.5) / 1000, h.quantile(0.9) / 1000, h.quantile(0.99) / 1000,
      h.quantile(0.999) / 1000, h.max() / 1000);
  if (r.max_waiting > 0) {
    printf("at most %llu requests waited for a connection (--connections caps concurrency)\n",
           static_cast<unsigned long long>(r.max_waiting));
  }
  for (const auto& [kind, n] : r.errors) {
    printf("error     %-20s %llu\n", kind.c_str(), static_cast<unsigned long long>(n));
  }
  if (r.resent > 0 || r.idle_closed > 0) {
    printf(
        "keep-alive: %llu idle connection(s) closed by the server were dropped; %llu request(s) "
        "sent again on a new connection after the server closed the reused one unanswered\n",
        static_cast<unsigned long long>(r.idle_closed), static_cast<unsigned long long>(r.resent));
  }
}

nlohmann::json summary_json(const load::LoadReport& r) {
  nlohmann::json errors = nlohmann::json::object();
  for (const auto& [kind, n] : r.errors) errors[kind] = n;
  nlohmann::json by_second = nlohmann::json::object();
  for (const auto& [second, kinds] : r.errors_by_second) {
    nlohmann::json k = nlohmann::json::object();
    for (const auto& [kind, n] : kinds) k[kind] = n;
    by_second[std::to_string(second)] = k;
  }
  nlohmann::json statuses = nlohmann::json::object();
  for (const auto& [status, n] : r.statuses) statuses[std::to_string(status)] = n;
  const auto& h = r.latency;
  return {{"elapsed_s", r.elapsed_s},
          {"scheduled", r.scheduled},
          {"completed", r.completed},
          {"ok", r.ok},
          {"errors", errors},
          {"errors_by_second", by_second},
          {"resent", r.resent},
          {"idle_closed_by_server", r.idle_closed},
          {"statuses", statuses},
          {"throughput_per_s", r.elapsed_s > 0 ? r.completed / r.elapsed_s : 0},
          {"max_waiting", r.max_waiting},
          {"latency_ms",
           {{"p50", h.quantile(0.5) / 1000},
            {"p90", h.quantile(0.9) / 1000},
            {"p99", h.quantile(0.99) / 1000},
            {"p99_9", h.quantile(0.999) / 1000},
            {"max", h.max() / 1000},
            {"mean", h.count() ? static_cast<double>(h.sum()) / h.count() / 1000 : 0}}}};
}

// A rate the runner can schedule: a finite number from 0 to 10 million per second; false
// (with a message naming the option) otherwise.
bool valid_rate(const char* option, double rate) {
  constexpr double kMaxRate = 1e7;
  if (std::isfinite(rate) && rate >= 0 && rate <= kMaxRate) return true;
  fprintf(stderr, "ballast load: %s %g: a rate is a number of requests per second from 0 to %g\n",
          option, rate, kMaxRate);
  return false;
}

}  // namespace

int load_command(const LoadCommandOptions& o) {
  if (!valid_rate("--rate", o.rate) || !valid_rate("--to", o.to) ||
      !valid_rate("--amplitude", o.amplitude)) {
    return 2;
  }
  load::LoadOptions options;
  options.url = o.url;
  options.max_connections = o.connections;
  options.timeout_ms = static_cast<int64_t>(o.timeout_s * 1000);
  options.progress = !o.quiet && !o.json;
  load::Profile& p = options.profile;
  std::string error;
  if (!load::parse_shape(o.profile, &p, &error)) {
    fprintf(stderr, "ballast load: %s\n", error.c_str());
    return 2;
  }
  p.rate = o.rate;
  p.to = o.to;
  p.at_s = o.at_s;
  p.spike_s = o.spike_s;
  p.amplitude = o.amplitude;
  p.period_s = o.period_s;
  p.duration_s = o.duration_s;
  if (p.shape == load::Profile::Shape::kTrace && !p.trace.empty() && o.duration_s <= 0) {
    p.duration_s = p.trace.back().first + 1;
  }
  if (p.duration_s <= 0 || o.rate < 0 || o.connections < 1) {
    fprintf(stderr,
            "ballast load: --duration must be positive, --rate not negative, "
            "--connections at least 1\n");
    return 2;
  }
  load::LoadReport report;
  if (!load::run_load(options, &report, &error)) {
    fprintf(stderr, "ballast load: %s\n", error.c_str());
    return 2;
  }
  if (o.json) {
    printf("%s\n", summary_json(report).dump(2).c_str());
  } else {
    print_summary(report);
  }
  return report.errors_total() == 0 ? 0 : 1;
}

}  // namespace ballast::app
