// GET /metrics: every worker's counts merged, the registry's health figures and the
// process's own, in the Prometheus text format.
#include <array>
#include <ctime>
#include <map>

#include "control/controller.h"
#include "core/time_format.h"
#include "http/percent.h"
#include "metrics/process_stats.h"
#include "metrics/prometheus.h"
#include "proxy/circuit_breaker.h"

namespace ballast::control {

using metrics::HistogramSnapshot;
using metrics::Labels;
using metrics::PrometheusWriter;
using Type = metrics::PrometheusWriter::Type;

namespace {

// Sums of one label set's counters across workers.
struct Sums {
  std::map<std::string, double> counters;
  std::map<int, double> by_class;  // responses by status class
  HistogramSnapshot histogram;
};

void add_classes(Sums& s, const metrics::StatusCounts& c) {
  for (int k = 1; k <= 5; ++k) s.by_class[k] += static_cast<double>(c.by_class[k].get());
}

void write_counter(PrometheusWriter& w, const std::string& name, const std::string& help,
                   const std::map<Labels, Sums>& all, const std::string& key) {
  w.family(name, Type::kCounter, help);
  for (const auto& [labels, sums] : all) {
    auto it = sums.counters.find(key);
    w.sample(labels, it == sums.counters.end() ? 0 : it->second);
  }
}

void write_classes(PrometheusWriter& w, const std::string& name, const std::string& help,
                   const std::map<Labels, Sums>& all) {
  w.family(name, Type::kCounter, help);
  for (const auto& [labels, sums] : all) {
    for (int k = 1; k <= 5; ++k) {
      Labels l = labels;
      l.emplace_back("code", std::to_string(k) + "xx");
      auto it = sums.by_class.find(k);
      w.sample(l, it == sums.by_class.end() ? 0 : it->second);
    }
  }
}

void write_histograms(PrometheusWriter& w, const std::string& name, const std::string& help,
                      const std::map<Labels, Sums>& all) {
  w.family(name, Type::kHistogram, help);
  for (const auto& [labels, sums] : all) w.histogram(labels, sums.histogram);
}

}  // namespace

nlohmann::json Controller::group_counters(const std::string& group) const {
  uint64_t requests = 0, retries = 0, no_target = 0, fail_open = 0, ejections = 0;
  uint64_t breakers[3] = {};
  metrics_.for_each_group([&](const std::string& name, const metrics::GroupStats& s) {
    if (name != group) return;
    requests += s.requests.get();
    retries += s.retries.get();
    no_target += s.no_target.get();
    fail_open += s.fail_open_picks.get();
    ejections += s.ejections.get();
    for (size_t k = 0; k < 3; ++k) breakers[k] += s.breaker_rejections[k].get();
  });
  return {{"requests", requests},
          {"retries", retries},
          {"ejections", ejections},
          {"no_target", no_target},
          {"fail_open_requests", fail_open},
          {"circuit_breaker_rejections",
           {{"max_requests", breakers[0]},
            {"max_pending_requests", breakers[1]},
            {"max_connections", breakers[2]}}}};
}

std::string Controller::render_prometheus() {
  std::map<Labels, Sums> listeners, groups, targets;
  metrics_.for_each_listener([&](const std::string& name, const metrics::ListenerStats& s) {
    Sums& m = listeners[{{"listener", name}}];
    m.counters["connections"] += static_cast<double>(s.connections.get());
    m.counters["active"] += static_cast<double>(s.active_connections.get());
    m.counters["requests"] += static_cast<double>(s.requests.get());
    m.counters["bytes_in"] += static_cast<double>(s.bytes_in.get());
    m.counters["bytes_out"] += static_cast<double>(s.bytes_out.get());
    add_classes(m, s.responses);
    m.histogram.add(s.total_time);
  });
  metrics_.for_each_group([&](const std::string& name, const metrics::GroupStats& s) {
    Sums& m = groups[{{"target_group", name}}];
    m.counters["requests"] += static_cast<double>(s.requests.get());
    m.counters["retries"] += static_cast<double>(s.retries.get());
    m.counters["ejections"] += static_cast<double>(s.ejections.get());
    m.counters["no_target"] += static_cast<double>(s.no_target.get());
    m.counters["fail_open"] += static_cast<double>(s.fail_open_picks.get());
    for (size_t k = 0; k < 3; ++k) {
      m.counters["breaker" + std::to_string(k)] +=
          static_cast<double>(s.breaker_rejections[k].get());
    }
    add_classes(m, s.responses);
    m.histogram.add(s.response_time);
  });
  metrics_.for_each_target(
      [&](const std::string& group, const std::string& address, const metrics::TargetStats& s) {
        Sums& m = targets[{{"target_group", group}, {"target", address}}];
        m.counters["requests"] += static_cast<double>(s.requests.get());
        m.counters["failures"] += static_cast<double>(s.failures.get());
        add_classes(m, s.responses);
        m.histogram.add(s.response_time);
      });

  PrometheusWriter w;
  write_counter(w, "ballast_listener_connections_total", "Client connections accepted.", listeners,
                "connections");
  w.family("ballast_listener_active_connections", Type::kGauge, "Client connections open now.");
  for (const auto& [labels, sums] : listeners) w.sample(labels, sums.counters.at("active"));
  write_counter(w, "ballast_listener_requests_total", "Requests received.", listeners, "requests");
  write_classes(w, "ballast_listener_responses_total",
                "Responses sent to clients by status class, ballast's own included.", listeners);
  write_counter(w, "ballast_listener_received_bytes_total", "Bytes received from clients.",
                listeners, "bytes_in");
  write_counter(w, "ballast_listener_sent_bytes_total", "Bytes sent to clients.", listeners,
                "bytes_out");
  write_histograms(w, "ballast_listener_request_duration_seconds",
                   "From a request's head arriving to its response's end.", listeners);

  w.family("ballast_rule_requests_total", Type::kCounter,
           "Requests matched by each rule (rule: its position in evaluation order).");
  std::map<std::pair<std::string, size_t>, std::pair<double, std::array<double, 6>>> rules;
  metrics_.for_each_listener([&](const std::string& name, const metrics::ListenerStats& s) {
    for (const auto& l : config_->listeners) {
      if (l.name != name) continue;
      size_t n = std::min(l.rules.size(), metrics::ListenerStats::kMaxRules);
      for (size_t r = 0; r < n; ++r) {
        auto& [requests, classes] = rules[{name, r}];
        requests += static_cast<double>(s.rules[r].requests.get());
        for (int c = 1; c <= 5; ++c) {
          classes[static_cast<size_t>(c)] +=
              static_cast<double>(s.rules[r].responses.by_class[c].get());
        }
      }
    }
  });
  for (const auto& [key, value] : rules) {
    w.sample({{"listener", key.first}, {"rule", std::to_string(key.second)}}, value.first);
  }
  w.family("ballast_rule_responses_total", Type::kCounter,
           "Responses to requests each rule matched, by status class.");
  for (const auto& [key, value] : rules) {
    for (int c = 1; c <= 5; ++c) {
      w.sample({{"listener", key.first},
                {"rule", std::to_string(key.second)},
                {"code", std::to_string(c) + "xx"}},
               value.second[static_cast<size_t>(c)]);
    }
  }

  write_counter(w, "ballast_target_group_requests_total", "Requests sent to the group's targets.",
                groups, "requests");
  write_classes(w, "ballast_target_group_responses_total",
                "Responses from the group's targets by status class.", groups);
  write_counter(w, "ballast_target_group_retries_total", "Retries on another target.", groups,
                "retries");
  write_counter(w, "ballast_target_group_ejections_total",
                "Targets ejected by outlier detection (per worker).", groups, "ejections");
  write_counter(w, "ballast_target_group_no_target_total",
                "Requests answered 503 because no target was usable.", groups, "no_target");
  write_counter(w, "ballast_target_group_fail_open_requests_total",
                "Requests routed to any target because none was healthy (fail_open).", groups,
                "fail_open");
  w.family("ballast_target_group_circuit_breaker_rejections_total", Type::kCounter,
           "Requests answered 503 at once by a circuit breaker, by limit.");
  for (const auto& [labels, sums] : groups) {
    for (size_t k = 0; k < 3; ++k) {
      Labels l = labels;
      l.emplace_back("limit",
                     proxy::CircuitBreaker::name(static_cast<proxy::CircuitBreaker::Kind>(k)));
      auto it = sums.counters.find("breaker" + std::to_string(k));
      w.sample(l, it == sums.counters.end() ? 0 : it->second);
    }
  }
  write_histograms(w, "ballast_target_group_response_time_seconds",
                   "From sending a request to a target to its response head.", groups);

  w.family("ballast_target_group_healthy_targets", Type::kGauge, "Targets in state healthy.");
  for (const auto& g : registry_.groups()) {
    size_t healthy = 0;
    for (const auto& t : g.targets) healthy += g.state_of(t) == TargetState::kHealthy;
    w.sample({{"target_group", g.name}}, static_cast<double>(healthy));
  }
  w.family("ballast_target_group_unhealthy_targets", Type::kGauge,
           "Targets not healthy: initial, unhealthy or draining.");
  for (const auto& g : registry_.groups()) {
    size_t other = 0;
    for (const auto& t : g.targets) other += g.state_of(t) != TargetState::kHealthy;
    w.sample({{"target_group", g.name}}, static_cast<double>(other));
  }
  w.family("ballast_target_state", Type::kGauge, "1 for each target's current state.");
  for (const auto& g : registry_.groups()) {
    for (const auto& t : g.targets) {
      w.sample({{"target_group", g.name},
                {"target", t.address_text},
                {"state", to_string(g.state_of(t))}},
               1);
    }
  }

  write_counter(w, "ballast_target_requests_total", "Tries sent to the target.", targets,
                "requests");
  write_classes(w, "ballast_target_responses_total", "Responses from the target by status class.",
                targets);
  write_counter(w, "ballast_target_failures_total",
                "Tries that failed: connection errors, timeouts, invalid responses.", targets,
                "failures");
  write_histograms(w, "ballast_target_response_time_seconds",
                   "From sending a request to the target to its response head.", targets);

  metrics::ProcessStats p = metrics::read_process_stats();
  w.family("ballast_process_cpu_seconds_total", Type::kCounter, "CPU time used, user and system.");
  w.sample({}, p.cpu_seconds);
  w.family("ballast_process_resident_memory_bytes", Type::kGauge, "Resident memory.");
  w.sample({}, static_cast<double>(p.resident_bytes));
  w.family("ballast_process_open_fds", Type::kGauge, "Open file descriptors.");
  w.sample({}, static_cast<double>(p.open_fds));
  w.family("ballast_process_start_time_seconds", Type::kGauge, "Start time, Unix seconds.");
  w.sample({}, static_cast<double>(started_unix_));
  w.family("ballast_config_generation", Type::kGauge, "Configurations applied (1 at start).");
  w.sample({}, static_cast<double>(reload_status_.generation));
  w.family("ballast_config_last_reload_successful", Type::kGauge,
           "1 when the latest reload applied, 0 when the file had errors.");
  w.sample({}, reload_status_.last_ok ? 1 : 0);
  return w.text();
}

namespace {
std::map<std::string, std::string> parse_query(const std::string& query) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    std::string_view pair(query.data() + start, end - start);
    size_t eq = pair.find('=');
    if (!pair.empty()) {
      out[http::percent_decode(pair.substr(0, eq), true)] =
          eq == std::string_view::npos ? "" : http::percent_decode(pair.substr(eq + 1), true);
    }
    start = end + 1;
  }
  return out;
}

bool parse_int(const std::string& text, int64_t* out) {
  char* end = nullptr;
  long long v = strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') return false;
  *out = v;
  return true;
}
}  // namespace

admin::AdminResponse Controller::metrics_query(const admin::AdminRequest& request) {
  auto params = parse_query(request.query);
  auto take = [&](const std::string& key, const std::string& fallback) {
    auto it = params.find(key);
    if (it == params.end()) return fallback;
    std::string v = it->second;
    params.erase(it);
    return v;
  };
  std::string metric = take("metric", "");
  if (metric.empty()) {
    return admin::error_response(400, "give ?metric=NAME (GET /api/v1/metrics lists them)");
  }
  std::string stat_text = take("stat", "Average");
  auto stat = metrics::Statistic::parse(stat_text);
  if (!stat) {
    return admin::error_response(400, "stat \"" + stat_text +
                                          "\": expected Average, Sum, Minimum, Maximum, "
                                          "SampleCount or pNN such as p99");
  }
  int64_t now = static_cast<int64_t>(::time(nullptr));
  int64_t period = 60, end = now, start = 0;
  if (!parse_int(take("period", "60"), &period) || period < 1) {
    return admin::error_response(400, "period must be a whole number of seconds, 1 or more");
  }
  if (!parse_int(take("end", std::to_string(now)), &end) ||
      !parse_int(take("start", std::to_string(end - 900)), &start) || start >= end) {
    return admin::error_response(400, "start and end are Unix seconds, start before end");
  }
  metrics::TimeSeriesStore::SeriesKey key{metric, {}};
  for (const auto& [k, v] : params) key.dimensions[k] = v;  // the rest are dimensions
  if (!series_.has(key)) {
    return admin::error_response(404, "no series " + metric +
                                          " with these dimensions "
                                          "(GET /api/v1/metrics lists them)");
  }
  auto points = series_.query(key, *stat, start, end, period);
  nlohmann::json timestamps = nlohmann::json::array(), values = nlohmann::json::array();
  // Newest first, as CloudWatch's default TimestampDescending.
  for (auto it = points.rbegin(); it != points.rend(); ++it) {
    timestamps.push_back(core::iso8601_utc(it->first));
    values.push_back(it->second);
  }
  nlohmann::json result = {{"Id", "m1"},
                           {"Label", metric + " " + stat->name()},
                           {"Timestamps", timestamps},
                           {"Values", values},
                           {"StatusCode", "Complete"}};
  return admin::AdminResponse{
      200, nlohmann::json({{"MetricDataResults", {result}}, {"Messages", nlohmann::json::array()}})
                   .dump(2) +
               "\n"};
}

}  // namespace ballast::control
