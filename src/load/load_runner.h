#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "load/profile.h"
#include "metrics/histogram.h"

namespace ballast::load {

struct LoadOptions {
  std::string url;  // http://HOST:PORT/PATH
  Profile profile;
  int max_connections = 256;  // the concurrency cap: requests beyond it wait (and it shows)
  int64_t timeout_ms = 10000;
  bool progress = true;  // a line on stderr each second
};

struct LoadReport {
  double elapsed_s = 0;
  uint64_t scheduled = 0;                  // arrivals the profile asked for
  uint64_t completed = 0;                  // responses, any status
  uint64_t ok = 0;                         // 2xx and 3xx
  std::map<std::string, uint64_t> errors;  // by kind: "status 503", "refused", "timeout"...
  // The same, by whole second from the start, so a failure can be matched with what the
  // server (an autoscaler, a reload) did then.
  std::map<int64_t, std::map<std::string, uint64_t>> errors_by_second;
  // Requests sent again, once, on a new connection because the server had closed the
  // reused one before any byte of a response (RFC 9112 9.3.1): not failures.
  uint64_t resent = 0;
  // Idle connections the server closed, noticed before they were picked for a request.
  uint64_t idle_closed = 0;
  std::map<int, uint64_t> statuses;
  // From each request's intended send time to its response's end, in µs: a stalled server
  // makes the queued requests late too (no coordinated omission).
  metrics::HistogramSnapshot latency;
  uint64_t max_waiting = 0;  // most requests queued for a connection at once
  uint64_t errors_total() const;
};

// Runs an open-loop load until the profile's duration ends and the requests still in
// flight finish (or time out). Returns false with `error` when the URL is unusable.
bool run_load(const LoadOptions& options, LoadReport* report, std::string* error);

}  // namespace ballast::load
