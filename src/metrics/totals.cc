#include "metrics/totals.h"

namespace ballast::metrics {

void StatusTotals::add(const StatusCounts& c) {
  for (int k = 0; k <= 5; ++k) by_class[k] += c.by_class[k].get();
}

Totals sum_over_workers(const MetricsRegistry& registry) {
  Totals t;
  registry.for_each_listener([&](const std::string& name, const ListenerStats& s) {
    ListenerTotals& l = t.listeners[name];
    l.connections += s.connections.get();
    l.active_connections += s.active_connections.get();
    l.requests += s.requests.get();
    l.bytes_in += s.bytes_in.get();
    l.bytes_out += s.bytes_out.get();
    l.tls_handshakes += s.tls_handshakes.get();
    l.tls_resumed += s.tls_resumed.get();
    l.tls_handshake_failures += s.tls_handshake_failures.get();
    l.websocket_upgrades += s.websocket_upgrades.get();
    l.refused_listener_full += s.refused_listener_full.get();
    l.refused_client_full += s.refused_client_full.get();
    l.active_tunnels += s.active_tunnels.get();
    l.http2_connections += s.http2_connections.get();
    l.http2_streams += s.http2_streams.get();
    l.http2_goaways += s.http2_goaways.get();
    l.kernel_relayed += s.kernel_relayed.get();
    l.kernel_handbacks += s.kernel_handbacks.get();
    l.responses.add(s.responses);
    l.total_time.add(s.total_time);
    for (size_t r = 0; r < ListenerStats::kMaxRules; ++r) {
      l.rules[r].requests += s.rules[r].requests.get();
      l.rules[r].rate_limited += s.rules[r].rate_limited.get();
      l.rules[r].responses.add(s.rules[r].responses);
      for (size_t o = 0; o < RuleStats::kCacheOutcomes; ++o)
        l.rules[r].cache_outcomes[o] += s.rules[r].cache_outcomes[o].get();
      l.rules[r].cache_coalesced += s.rules[r].cache_coalesced.get();
      for (size_t f = 0; f < RuleStats::kFaultKinds; ++f)
        l.rules[r].faults[f] += s.rules[r].faults[f].get();
      l.rules[r].cache_bytes_served += s.rules[r].cache_bytes_served.get();
    }
  });
  registry.for_each_group([&](const std::string& name, const GroupStats& s) {
    GroupTotals& g = t.groups[name];
    g.requests += s.requests.get();
    g.retries += s.retries.get();
    g.ejections += s.ejections.get();
    g.no_target += s.no_target.get();
    g.fail_open_picks += s.fail_open_picks.get();
    for (size_t k = 0; k < 3; ++k) g.breaker_rejections[k] += s.breaker_rejections[k].get();
    g.responses.add(s.responses);
    g.response_time.add(s.response_time);
  });
  registry.for_each_target(
      [&](const std::string& group, const std::string& address, const TargetStats& s) {
        TargetTotals& x = t.targets[{group, address}];
        x.requests += s.requests.get();
        x.in_flight += s.in_flight.get();
        x.failures += s.failures.get();
        x.responses.add(s.responses);
        x.response_time.add(s.response_time);
      });
  return t;
}

}  // namespace ballast::metrics
