#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "metrics/counter.h"
#include "metrics/histogram.h"

namespace ballast::metrics {

// Responses by status class (index 1..5 for 1xx..5xx).
struct StatusCounts {
  Counter by_class[6];
  void count(int status) {
    int c = status / 100;
    by_class[c >= 1 && c <= 5 ? c : 0].add();
  }
};

// One worker's counts for one rule of a listener.
struct RuleStats {
  Counter requests;
  Counter rate_limited;  // answered 429 by the rule's rate limit
  StatusCounts responses;
  // The response cache's answers (X-Cache), as CacheExchange::Outcome numbers them: hit,
  // miss, stale, revalidated, bypass.
  static constexpr size_t kCacheOutcomes = 5;
  std::array<Counter, kCacheOutcomes> cache_outcomes;
  Counter cache_coalesced;     // misses that waited for another request's fetch of the key
  Counter cache_bytes_served;  // body bytes sent from the store
  // Faults the rule injected, by kind: delay, abort, reset.
  static constexpr size_t kFaultKinds = 3;
  std::array<Counter, kFaultKinds> faults;
};

// One worker's counts for one listener. Every struct here is written by its worker only
// and read by the control thread, which merges the workers' copies each second.
struct ListenerStats {
  Counter connections;  // accepted
  Gauge active_connections;
  Counter requests;
  StatusCounts responses;          // sent to clients, ballast's own included
  Counter bytes_in;                // from clients
  Counter bytes_out;               // to clients
  Histogram total_time;            // request head received -> response sent, µs
  Counter tls_handshakes;          // completed (resumed ones included)
  Counter tls_resumed;             // completed by resuming a session (ticket or session ID)
  Counter tls_handshake_failures;  // refused or broken before completing
  Counter websocket_upgrades;      // 101 answers that turned a connection into a tunnel
  Counter refused_listener_full;   // closed at accept: max_connections reached
  Counter refused_client_full;     // closed at accept: max_connections_per_client reached
  Gauge active_tunnels;
  Counter http2_connections;  // connections that turned to HTTP/2 (ALPN h2, or h2c)
  Counter http2_streams;      // requests that came as HTTP/2 streams
  Counter http2_goaways;      // HTTP/2 connections ended for a protocol error or an attack
  Counter kernel_relayed;     // tcp connections whose bytes the kernel relay moved
  Counter kernel_handbacks;   // their directions the kernel relay handed back (over budget)
  // By rule position in evaluation order; rules past the last slot share it.
  static constexpr size_t kMaxRules = 64;
  RuleStats rules[kMaxRules];
  RuleStats& rule(int position) {
    return rules[std::min<size_t>(static_cast<size_t>(position), kMaxRules - 1)];
  }
};

// One worker's counts for one target group.
struct GroupStats {
  Counter requests;        // sent to a target (first tries)
  StatusCounts responses;  // from targets, as forwarded
  Counter retries;
  Counter ejections;              // outlier detection
  Counter no_target;              // answered 503: no usable target
  Counter fail_open_picks;        // requests routed while no target was healthy (fail_open)
  Counter breaker_rejections[3];  // by CircuitBreaker::Kind: requests, pending, connections
  Histogram response_time;        // request sent -> response head from the target, µs
};

// One worker's counts for one target.
struct TargetStats {
  Counter requests;  // tries sent to it
  Gauge in_flight;   // requests sent and not yet answered
  StatusCounts responses;
  Counter failures;  // connection failures, timeouts, invalid responses
  Histogram response_time;
};

}  // namespace ballast::metrics
