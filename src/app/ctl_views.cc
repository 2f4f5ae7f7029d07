// `ballast ctl top` (a live view, like htop for the load balancer) and `ballast ctl
// metrics` (one series as a table).
#include "app/ctl_views.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "app/admin_client.h"
#include "app/commands.h"
#include "config/units.h"
#include "core/clock.h"

namespace ballast::app {

using nlohmann::json;

namespace {

std::string query_path(const std::string& metric, const std::string& dims, const std::string& stat,
                       int64_t period, int64_t start, int64_t end) {
  return "/api/v1/metrics/query?metric=" + encode_segment(metric) +
         "&stat=" + encode_segment(stat) + "&period=" + std::to_string(period) +
         "&start=" + std::to_string(start) + "&end=" + std::to_string(end) + dims;
}

// The newest value of a series over [start, end) with one period covering it all; nullopt
// when it has none (no traffic yet).
std::optional<double> latest(const AdminEndpoint& api, const std::string& metric,
                             const std::string& dims, const std::string& stat, int64_t start,
                             int64_t end) {
  std::string error;
  auto j = admin_get_json(api, query_path(metric, dims, stat, end - start, start, end), &error);
  if (!j) return std::nullopt;
  const auto& values = (*j)["MetricDataResults"][0]["Values"];
  if (values.empty()) return std::nullopt;
  return values[0].get<double>();
}

std::string number(std::optional<double> v, int decimals) {
  if (!v) return "-";
  char buf[32];
  snprintf(buf, sizeof(buf), "%.*f", decimals, *v);
  return buf;
}

// One screen of `top`: per group its request rate, errors and latency over the last 10 s,
// then its targets.
bool draw_top(const AdminEndpoint& api, std::string* error) {
  auto groups = admin_get_json(api, "/api/v1/target-groups", error);
  auto status = groups ? admin_get_json(api, "/api/v1/status", error) : std::nullopt;
  if (!groups || !status) return false;
  int64_t now = core::unix_seconds();
  // The last ten complete seconds.
  int64_t end = now - 1, start = end - 10;
  std::string screen;
  char line[512];
  time_t t = static_cast<time_t>(now);
  char clock[16];
  strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&t));
  snprintf(line, sizeof(line), "ballast top - %s - configuration %d, %d worker(s) - last 10 s\n\n",
           clock, (*status)["config_generation"].get<int>(), (*status)["workers"].get<int>());
  screen += line;
  snprintf(line, sizeof(line), "%-18s %10s %8s %9s %9s %9s %8s\n", "GROUP", "REQ/S", "5XX/S",
           "P50 MS", "P95 MS", "P99 MS", "HEALTHY");
  screen += line;
  std::string targets;
  for (const auto& g : (*groups)["target_groups"]) {
    std::string name = g["name"];
    std::string dims = "&target_group=" + encode_segment(name);
    auto sum = latest(api, "RequestCount", dims, "Sum", start, end);
    auto errors = latest(api, "HTTPCode_Target_5XX_Count", dims, "Sum", start, end);
    auto ms = [&](const char* p) {
      auto v = latest(api, "TargetResponseTime", dims, p, start, end);
      return v ? std::optional<double>(*v * 1000) : std::nullopt;
    };
    std::string healthy =
        std::to_string(g["healthy_count"].get<int>()) + "/" + std::to_string(g["targets"].size());
    snprintf(line, sizeof(line), "%-18s %10s %8s %9s %9s %9s %8s\n", name.c_str(),
             number(sum ? std::optional<double>(*sum / 10) : std::nullopt, 1).c_str(),
             number(errors ? std::optional<double>(*errors / 10) : std::nullopt, 1).c_str(),
             number(ms("p50"), 2).c_str(), number(ms("p95"), 2).c_str(),
             number(ms("p99"), 2).c_str(), healthy.c_str());
    screen += line;
    for (const auto& target : g["targets"]) {
      std::string reason = target.value("reason", "");
      snprintf(line, sizeof(line), "  %-16s %-28s %-10s %6u  %s\n", name.c_str(),
               target["address"].get<std::string>().c_str(),
               target["state"].get<std::string>().c_str(), target["weight"].get<unsigned>(),
               reason.c_str());
      targets += line;
    }
  }
  screen += "\nTARGETS\n" + targets;
  // Home the cursor and clear the screen only on a terminal; piped output stays plain.
  if (isatty(STDOUT_FILENO)) fputs("\033[H\033[2J", stdout);
  fputs(screen.c_str(), stdout);
  fflush(stdout);
  return true;
}

}  // namespace

int ctl_top(const AdminEndpoint& api, int iterations) {
  for (int i = 0; iterations == 0 || i < iterations; ++i) {
    if (i > 0) sleep(1);
    std::string error;
    if (!draw_top(api, &error)) {
      fprintf(stderr, "ballast ctl top: %s\n", error.c_str());
      return 1;
    }
  }
  return 0;
}

int ctl_metrics(const AdminEndpoint& api, const CtlOptions& options) {
  if (options.args.size() < 2) {
    fputs(
        "usage: ballast ctl metrics METRIC [DIMENSION=VALUE ...] [--stat S] [--period 10s] "
        "[--since 15m]\n",
        stderr);
    return 2;
  }
  auto period = config::parse_duration_ms(options.period);
  auto since = config::parse_duration_ms(options.since);
  if (!period || *period < 1000 || !since || *since < *period) {
    fprintf(stderr,
            "ballast ctl metrics: --period (at least 1s) and --since (at least one "
            "period) are durations such as 10s or 15m\n");
    return 2;
  }
  std::string dims;
  for (size_t i = 2; i < options.args.size(); ++i) {
    size_t eq = options.args[i].find('=');
    if (eq == std::string::npos) {
      fprintf(stderr, "ballast ctl metrics: \"%s\" is not DIMENSION=VALUE\n",
              options.args[i].c_str());
      return 2;
    }
    dims += "&" + encode_segment(options.args[i].substr(0, eq)) + "=" +
            encode_segment(options.args[i].substr(eq + 1));
  }
  int64_t end = core::unix_seconds();
  std::string error;
  auto j = admin_get_json(
      api,
      query_path(options.args[1], dims, options.stat, *period / 1000, end - *since / 1000, end),
      &error);
  if (!j) {
    fprintf(stderr, "ballast ctl metrics: %s\n", error.c_str());
    return 1;
  }
  if (options.json) {
    printf("%s\n", j->dump(2).c_str());
    return 0;
  }
  const auto& r = (*j)["MetricDataResults"][0];
  printf("%-22s %s\n", "TIME (UTC)", r["Label"].get<std::string>().c_str());
  for (size_t i = 0; i < r["Timestamps"].size(); ++i) {
    printf("%-22s %.6g\n", r["Timestamps"][i].get<std::string>().c_str(),
           r["Values"][i].get<double>());
  }
  return 0;
}

}  // namespace ballast::app
