#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "metrics/histogram.h"
#include "metrics/metrics_registry.h"

namespace ballast::metrics {

// The workers' stats blocks added up, by name: what Prometheus, the time-series store and
// the API read. One pass over the registry, under its lock.
struct StatusTotals {
  uint64_t by_class[6] = {};  // index 1..5 for 1xx..5xx
  void add(const StatusCounts& c);
};

struct RuleTotals {
  uint64_t requests = 0;
  uint64_t rate_limited = 0;
  StatusTotals responses;
  std::array<uint64_t, RuleStats::kCacheOutcomes> cache_outcomes = {};
  uint64_t cache_coalesced = 0;
  uint64_t cache_bytes_served = 0;
  std::array<uint64_t, RuleStats::kFaultKinds> faults = {};
};

struct ListenerTotals {
  uint64_t connections = 0;
  int64_t active_connections = 0;
  uint64_t requests = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t tls_handshakes = 0;
  uint64_t tls_resumed = 0;
  uint64_t tls_handshake_failures = 0;
  uint64_t websocket_upgrades = 0;
  uint64_t refused_listener_full = 0;
  uint64_t refused_client_full = 0;
  int64_t active_tunnels = 0;
  uint64_t http2_connections = 0;
  uint64_t http2_streams = 0;
  uint64_t http2_goaways = 0;
  uint64_t kernel_relayed = 0;
  uint64_t kernel_handbacks = 0;
  StatusTotals responses;
  HistogramSnapshot total_time;
  std::array<RuleTotals, ListenerStats::kMaxRules> rules;
};

struct GroupTotals {
  uint64_t requests = 0;
  uint64_t retries = 0;
  uint64_t ejections = 0;
  uint64_t no_target = 0;
  uint64_t fail_open_picks = 0;
  uint64_t breaker_rejections[3] = {};  // by CircuitBreaker::Kind
  StatusTotals responses;
  HistogramSnapshot response_time;
};

struct TargetTotals {
  uint64_t requests = 0;
  int64_t in_flight = 0;
  uint64_t failures = 0;
  StatusTotals responses;
  HistogramSnapshot response_time;
};

struct Totals {
  std::map<std::string, ListenerTotals> listeners;
  std::map<std::string, GroupTotals> groups;
  std::map<std::pair<std::string, std::string>, TargetTotals> targets;  // (group, address)
};

Totals sum_over_workers(const MetricsRegistry& registry);

}  // namespace ballast::metrics
