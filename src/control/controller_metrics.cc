// GET /metrics: every worker's counts merged, the registry's health figures and the
// process's own, in the Prometheus text format.
#include <algorithm>
#include <ctime>
#include <map>

#include "control/api_support.h"
#include "control/controller.h"
#include "core/clock.h"
#include "core/time_format.h"
#include "http/percent.h"
#include "metrics/process_stats.h"
#include "metrics/prometheus.h"
#include "metrics/totals.h"
#include "proxy/cache_exchange.h"
#include "proxy/circuit_breaker.h"

namespace ballast::control {

using metrics::Labels;
using metrics::PrometheusWriter;
using Type = metrics::PrometheusWriter::Type;

namespace {

Labels listener_labels(const std::string& name) {
  return {{"listener", name}};
}
Labels group_labels(const std::string& name) {
  return {{"target_group", name}};
}
Labels target_labels(const std::pair<std::string, std::string>& key) {
  return {{"target_group", key.first}, {"target", key.second}};
}

// One family with a sample per entry of `all`: labels from its key, value from `value`.
template <typename Map, typename LabelFn, typename ValueFn>
void family(PrometheusWriter& w, const char* name, Type type, const char* help, const Map& all,
            LabelFn labels, ValueFn value) {
  w.family(name, type, help);
  for (const auto& [key, totals] : all) w.sample(labels(key), static_cast<double>(value(totals)));
}

// Responses by status class: a sample per class, with a "code" label.
template <typename Map, typename LabelFn, typename StatusFn>
void classes(PrometheusWriter& w, const char* name, const char* help, const Map& all,
             LabelFn labels, StatusFn responses) {
  w.family(name, Type::kCounter, help);
  for (const auto& [key, totals] : all) {
    for (int k = 1; k <= 5; ++k) {
      Labels l = labels(key);
      l.emplace_back("code", std::to_string(k) + "xx");
      w.sample(l, static_cast<double>(responses(totals).by_class[k]));
    }
  }
}

template <typename Map, typename LabelFn, typename HistogramFn>
void histograms(PrometheusWriter& w, const char* name, const char* help, const Map& all,
                LabelFn labels, HistogramFn histogram) {
  w.family(name, Type::kHistogram, help);
  for (const auto& [key, totals] : all) w.histogram(labels(key), histogram(totals));
}

// The response cache: per caching rule, its answers by X-Cache value, coalesced waits and
// bytes served from the store; and the store's own gauges and counts.
template <typename Map, typename LabelFn>
void write_cache_outcomes(PrometheusWriter& w, const Map& rules, LabelFn rule_labels) {
  w.family("ballast_rule_cache_responses_total", Type::kCounter,
           "Responses of each caching rule by cache outcome (its X-Cache value).");
  for (const auto& [key, totals] : rules) {
    uint64_t all = 0;
    for (uint64_t n : totals.cache_outcomes) all += n;
    if (all == 0) continue;
    for (size_t o = 0; o < totals.cache_outcomes.size(); ++o) {
      Labels l = rule_labels(key);
      l.emplace_back("outcome",
                     proxy::cache_outcome_name(static_cast<proxy::CacheExchange::Outcome>(o)));
      w.sample(l, static_cast<double>(totals.cache_outcomes[o]));
    }
  }
}

}  // namespace

nlohmann::json group_counters(const metrics::Totals& totals, const std::string& group) {
  metrics::GroupTotals g;
  if (auto it = totals.groups.find(group); it != totals.groups.end()) g = it->second;
  return {{"requests", g.requests},
          {"retries", g.retries},
          {"ejections", g.ejections},
          {"no_target", g.no_target},
          {"fail_open_requests", g.fail_open_picks},
          {"circuit_breaker_rejections",
           {{"max_requests", g.breaker_rejections[0]},
            {"max_pending_requests", g.breaker_rejections[1]},
            {"max_connections", g.breaker_rejections[2]}}}};
}

namespace {
template <typename Map, typename LabelFn>
void write_cache_metrics(PrometheusWriter& w, const Map& rules, LabelFn rule_labels,
                         const cache::Store* store, const config::Config& config) {
  // The counts of a rule that caches, by its key in `rules` (null: it does not cache).
  auto cache_rule = [&](const std::pair<std::string, size_t>& key) -> const cache::OwnerCounts* {
    for (const auto& l : config.listeners) {
      if (l.name == key.first && key.second < l.rules.size() && l.rules[key.second].cache.enabled)
        return l.rules[key.second].cache.counts.get();
    }
    return nullptr;
  };
  write_cache_outcomes(w, rules, rule_labels);
  family(w, "ballast_rule_cache_coalesced_total", Type::kCounter,
         "Cache misses that waited for another request's fetch of the same key.", rules,
         rule_labels, [](const metrics::RuleTotals& r) { return r.cache_coalesced; });
  w.family("ballast_rule_cache_evictions_total", Type::kCounter,
           "Objects each caching rule stored that the cache pushed out for room (counted "
           "from the rule's last reload).");
  for (const auto& entry : rules) {
    if (const auto* c = cache_rule(entry.first))
      w.sample(rule_labels(entry.first), static_cast<double>(c->evicted.load()));
  }
  family(w, "ballast_rule_cache_served_bytes_total", Type::kCounter,
         "Response body bytes each rule served from the cache.", rules, rule_labels,
         [](const metrics::RuleTotals& r) { return r.cache_bytes_served; });
  if (store == nullptr) return;
  cache::Store::Totals c = store->totals();
  auto gauge = [&](const char* name, Type type, const char* help, uint64_t value) {
    w.family(name, type, help);
    w.sample({}, static_cast<double>(value));
  };
  gauge("ballast_cache_objects", Type::kGauge, "Responses held by the cache.", c.objects);
  gauge("ballast_cache_bytes", Type::kGauge, "Memory the cache's objects take.", c.bytes);
  gauge("ballast_cache_capacity_bytes", Type::kGauge, "The cache's memory (cache.memory).",
        store->capacity());
  gauge("ballast_cache_evictions_total", Type::kCounter,
        "Objects the cache pushed out to make room.", c.evictions);
  gauge("ballast_cache_not_admitted_total", Type::kCounter,
        "Responses the cache's admission filter kept out (asked for less often than what "
        "they would have pushed out).",
        c.not_admitted);
  gauge("ballast_cache_purged_total", Type::kCounter, "Objects removed by purges.", c.purged);
  if (const cache::DiskTier* disk = store->disk()) {
    cache::DiskTier::Totals d = disk->totals();
    gauge("ballast_cache_disk_objects", Type::kGauge, "Responses in the cache's disk tier.",
          d.objects);
    gauge("ballast_cache_disk_bytes", Type::kGauge, "Bytes of the disk tier's files.", d.bytes);
    gauge("ballast_cache_disk_reads_total", Type::kCounter,
          "Objects read back from the disk tier on a memory miss.", d.reads);
    gauge("ballast_cache_disk_writes_total", Type::kCounter, "Files the disk tier wrote.",
          d.writes);
    gauge("ballast_cache_disk_write_drops_total", Type::kCounter,
          "Objects not written: the disk tier's queue was full.", d.write_drops);
    gauge("ballast_cache_disk_evictions_total", Type::kCounter,
          "Files the disk tier removed for room.", d.evictions);
  }
}
}  // namespace

std::string Controller::render_prometheus() {
  using metrics::GroupTotals;
  using metrics::ListenerTotals;
  using metrics::TargetTotals;
  metrics::Totals t = metrics::sum_over_workers(metrics_);
  const auto& listeners = t.listeners;
  const auto& groups = t.groups;
  const auto& targets = t.targets;
  PrometheusWriter w;

  family(w, "ballast_listener_connections_total", Type::kCounter, "Client connections accepted.",
         listeners, listener_labels, [](const ListenerTotals& l) { return l.connections; });
  family(w, "ballast_listener_active_connections", Type::kGauge, "Client connections open now.",
         listeners, listener_labels, [](const ListenerTotals& l) { return l.active_connections; });
  family(w, "ballast_listener_requests_total", Type::kCounter, "Requests received.", listeners,
         listener_labels, [](const ListenerTotals& l) { return l.requests; });
  classes(
      w, "ballast_listener_responses_total",
      "Responses sent to clients by status class, ballast's own included.", listeners,
      listener_labels, [](const ListenerTotals& l) -> const auto& { return l.responses; });
  family(w, "ballast_listener_received_bytes_total", Type::kCounter, "Bytes received from clients.",
         listeners, listener_labels, [](const ListenerTotals& l) { return l.bytes_in; });
  family(w, "ballast_listener_sent_bytes_total", Type::kCounter, "Bytes sent to clients.",
         listeners, listener_labels, [](const ListenerTotals& l) { return l.bytes_out; });
  family(w, "ballast_listener_tls_handshakes_total", Type::kCounter,
         "TLS handshakes completed, resumed ones included.", listeners, listener_labels,
         [](const ListenerTotals& l) { return l.tls_handshakes; });
  family(w, "ballast_listener_tls_resumed_total", Type::kCounter,
         "TLS handshakes that resumed a session (ticket or session ID).", listeners,
         listener_labels, [](const ListenerTotals& l) { return l.tls_resumed; });
  family(w, "ballast_listener_tls_handshake_failures_total", Type::kCounter,
         "TLS handshakes refused or broken before completing.", listeners, listener_labels,
         [](const ListenerTotals& l) { return l.tls_handshake_failures; });
  family(w, "ballast_listener_refused_connections_total", Type::kCounter,
         "Connections closed at accept because the listener had max_connections open.", listeners,
         listener_labels, [](const ListenerTotals& l) { return l.refused_listener_full; });
  family(w, "ballast_listener_refused_client_connections_total", Type::kCounter,
         "Connections closed at accept because their client had max_connections_per_client open.",
         listeners, listener_labels, [](const ListenerTotals& l) { return l.refused_client_full; });
  family(w, "ballast_listener_websocket_upgrades_total", Type::kCounter,
         "WebSocket upgrades accepted by a target (101), each now a tunnel.", listeners,
         listener_labels, [](const ListenerTotals& l) { return l.websocket_upgrades; });
  family(w, "ballast_listener_active_tunnels", Type::kGauge, "WebSocket tunnels open now.",
         listeners, listener_labels, [](const ListenerTotals& l) { return l.active_tunnels; });
  family(w, "ballast_listener_http2_connections_total", Type::kCounter,
         "Connections that turned to HTTP/2 (by ALPN, or an h2c preface).", listeners,
         listener_labels, [](const ListenerTotals& l) { return l.http2_connections; });
  family(w, "ballast_listener_http2_streams_total", Type::kCounter,
         "Requests that came as HTTP/2 streams.", listeners, listener_labels,
         [](const ListenerTotals& l) { return l.http2_streams; });
  family(w, "ballast_listener_http2_goaways_total", Type::kCounter,
         "HTTP/2 connections ended with GOAWAY for a protocol error or an attack (floods, "
         "rapid reset).",
         listeners, listener_labels, [](const ListenerTotals& l) { return l.http2_goaways; });
  family(w, "ballast_listener_kernel_relayed_connections_total", Type::kCounter,
         "tcp connections whose bytes the kernel relay (eBPF sockmap) moved.", listeners,
         listener_labels, [](const ListenerTotals& l) { return l.kernel_relayed; });
  family(w, "ballast_listener_kernel_handbacks_total", Type::kCounter,
         "Directions of those connections that the kernel relay handed back to ballast's own "
         "relay: bulk flows that outran its budget.",
         listeners, listener_labels, [](const ListenerTotals& l) { return l.kernel_handbacks; });
  histograms(
      w, "ballast_listener_request_duration_seconds",
      "From a request's head arriving to its response's end.", listeners, listener_labels,
      [](const ListenerTotals& l) -> const auto& { return l.total_time; });

  // Rules: those of the current configuration, by position.
  std::map<std::pair<std::string, size_t>, metrics::RuleTotals> rules;
  for (const auto& l : config_->listeners) {
    auto it = listeners.find(l.name);
    if (it == listeners.end()) continue;
    size_t n = std::min(l.rules.size(), metrics::ListenerStats::kMaxRules);
    for (size_t r = 0; r < n; ++r) rules[{l.name, r}] = it->second.rules[r];
  }
  auto rule_labels = [](const std::pair<std::string, size_t>& key) {
    return Labels{{"listener", key.first}, {"rule", std::to_string(key.second)}};
  };
  family(w, "ballast_rule_requests_total", Type::kCounter,
         "Requests matched by each rule (rule: its position in evaluation order).", rules,
         rule_labels, [](const metrics::RuleTotals& r) { return r.requests; });
  family(w, "ballast_rule_rate_limited_total", Type::kCounter,
         "Requests each rule's rate_limit answered 429.", rules, rule_labels,
         [](const metrics::RuleTotals& r) { return r.rate_limited; });
  classes(
      w, "ballast_rule_responses_total",
      "Responses to requests each rule matched, by status class.", rules, rule_labels,
      [](const metrics::RuleTotals& r) -> const auto& { return r.responses; });
  write_cache_metrics(w, rules, rule_labels, cache_store_.get(), *config_);
  w.family("ballast_rule_faults_total", Type::kCounter,
           "Faults each rule injected into its requests, by kind (delay, abort, reset).");
  for (const auto& [key, totals] : rules) {
    if (totals.faults[0] + totals.faults[1] + totals.faults[2] == 0) continue;
    const char* kinds[] = {"delay", "abort", "reset"};
    for (size_t k = 0; k < 3; ++k) {
      Labels l = rule_labels(key);
      l.emplace_back("kind", kinds[k]);
      w.sample(l, static_cast<double>(totals.faults[k]));
    }
  }

  family(w, "ballast_target_group_requests_total", Type::kCounter,
         "Requests sent to the group's targets.", groups, group_labels,
         [](const GroupTotals& g) { return g.requests; });
  classes(
      w, "ballast_target_group_responses_total",
      "Responses from the group's targets by status class.", groups, group_labels,
      [](const GroupTotals& g) -> const auto& { return g.responses; });
  family(w, "ballast_target_group_retries_total", Type::kCounter, "Retries on another target.",
         groups, group_labels, [](const GroupTotals& g) { return g.retries; });
  family(w, "ballast_target_group_ejections_total", Type::kCounter,
         "Targets ejected by outlier detection (per worker).", groups, group_labels,
         [](const GroupTotals& g) { return g.ejections; });
  family(w, "ballast_target_group_no_target_total", Type::kCounter,
         "Requests answered 503 because no target was usable.", groups, group_labels,
         [](const GroupTotals& g) { return g.no_target; });
  family(w, "ballast_target_group_fail_open_requests_total", Type::kCounter,
         "Requests routed to any target because none was healthy (fail_open).", groups,
         group_labels, [](const GroupTotals& g) { return g.fail_open_picks; });
  w.family("ballast_target_group_circuit_breaker_rejections_total", Type::kCounter,
           "Requests answered 503 at once by a circuit breaker, by limit.");
  for (const auto& [name, g] : groups) {
    for (size_t k = 0; k < 3; ++k) {
      Labels l = group_labels(name);
      l.emplace_back("limit",
                     proxy::CircuitBreaker::name(static_cast<proxy::CircuitBreaker::Kind>(k)));
      w.sample(l, static_cast<double>(g.breaker_rejections[k]));
    }
  }
  histograms(
      w, "ballast_target_group_response_time_seconds",
      "From sending a request to a target to its response head.", groups, group_labels,
      [](const GroupTotals& g) -> const auto& { return g.response_time; });

  w.family("ballast_target_group_healthy_targets", Type::kGauge, "Targets in state healthy.");
  for (const auto& g : registry_.groups()) {
    size_t healthy = 0;
    for (const auto& x : g.targets) healthy += g.state_of(x) == health::TargetHealth::kHealthy;
    w.sample(group_labels(g.name), static_cast<double>(healthy));
  }
  w.family("ballast_target_group_unhealthy_targets", Type::kGauge,
           "Targets not healthy: initial, unhealthy or draining.");
  for (const auto& g : registry_.groups()) {
    size_t other = 0;
    for (const auto& x : g.targets) other += g.state_of(x) != health::TargetHealth::kHealthy;
    w.sample(group_labels(g.name), static_cast<double>(other));
  }
  w.family("ballast_target_state", Type::kGauge, "1 for each target's current state.");
  for (const auto& g : registry_.groups()) {
    for (const auto& x : g.targets) {
      w.sample({{"target_group", g.name},
                {"target", x.address_text},
                {"state", to_string(g.state_of(x))}},
               1);
    }
  }

  family(w, "ballast_target_requests_total", Type::kCounter, "Tries sent to the target.", targets,
         target_labels, [](const TargetTotals& x) { return x.requests; });
  classes(
      w, "ballast_target_responses_total", "Responses from the target by status class.", targets,
      target_labels, [](const TargetTotals& x) -> const auto& { return x.responses; });
  family(w, "ballast_target_failures_total", Type::kCounter,
         "Tries that failed: connection errors, timeouts, invalid responses.", targets,
         target_labels, [](const TargetTotals& x) { return x.failures; });
  histograms(
      w, "ballast_target_response_time_seconds",
      "From sending a request to the target to its response head.", targets, target_labels,
      [](const TargetTotals& x) -> const auto& { return x.response_time; });

  metrics::ProcessStats p = metrics::read_process_stats();
  w.family("ballast_process_cpu_seconds_total", Type::kCounter, "CPU time used, user and system.");
  w.sample({}, p.cpu_seconds);
  w.family("ballast_process_resident_memory_bytes", Type::kGauge, "Resident memory.");
  w.sample({}, static_cast<double>(p.resident_bytes));
  w.family("ballast_process_open_fds", Type::kGauge, "Open file descriptors.");
  w.sample({}, static_cast<double>(p.open_fds));
  w.family("ballast_process_start_time_seconds", Type::kGauge, "Start time, Unix seconds.");
  w.sample({}, static_cast<double>(started_unix_));
  autoscaler_.write_prometheus(w);
  w.family("ballast_config_generation", Type::kGauge, "Configurations applied (1 at start).");
  w.sample({}, static_cast<double>(reload_status_.generation));
  w.family("ballast_config_last_reload_successful", Type::kGauge,
           "1 when the latest reload applied, 0 when the file had errors.");
  w.sample({}, reload_status_.last_ok ? 1 : 0);
  render_acme_metrics(w);
  render_cluster_metrics(w);
  render_database_metrics(w);
  return w.text();
}

namespace {

bool parse_int(const std::string& text, int64_t* out) {
  char* end = nullptr;
  long long v = strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') return false;
  *out = v;
  return true;
}
}  // namespace

admin::AdminResponse Controller::metrics_query(const admin::AdminRequest& request) {
  auto params = query_params(request.query);
  auto take = [&](const std::string& key, const std::string& fallback) {
    auto it = params.find(key);
    if (it == params.end()) return fallback;
    std::string v = it->second;
    params.erase(it);
    return v;
  };
  std::string metric = take("metric", "");
  if (metric.empty()) {
    throw admin::ClientError(400, "give ?metric=NAME (GET /api/v1/metrics lists them)");
  }
  std::string stat_text = take("stat", "Average");
  auto stat = metrics::Statistic::parse(stat_text);
  if (!stat) {
    throw admin::ClientError(400, "stat \"" + stat_text +
                                      "\": expected Average, Sum, Minimum, Maximum, "
                                      "SampleCount or pNN such as p99");
  }
  int64_t now = core::unix_seconds();
  int64_t period = 60, end = now, start = 0;
  if (!parse_int(take("period", "60"), &period) || period < 1) {
    throw admin::ClientError(400, "period must be a whole number of seconds, 1 or more");
  }
  if (!parse_int(take("end", std::to_string(now)), &end) ||
      !parse_int(take("start", std::to_string(end - 900)), &start) || start >= end) {
    throw admin::ClientError(400, "start and end are Unix seconds, start before end");
  }
  metrics::TimeSeriesStore::SeriesKey key{metric, {}};
  for (const auto& [k, v] : params) key.dimensions[k] = v;  // the rest are dimensions
  if (!series_.has(key)) {
    throw admin::ClientError(404, "no series " + metric +
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
