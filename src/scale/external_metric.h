#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/event_loop.h"
#include "http/http_call.h"
#include "scale/child_process.h"

namespace ballast::scale {

// A number from outside ballast, polled every poll_interval: a command's output, a field
// of an HTTP endpoint's JSON, or a Prometheus instant query. With these a queue's depth
// (Redis, RabbitMQ, SQS through its CLI) can drive a worker group.
class ExternalMetric {
 public:
  ExternalMetric(core::EventLoop& loop, const config::PolicyMetric& metric);
  ~ExternalMetric();
  ExternalMetric(const ExternalMetric&) = delete;
  ExternalMetric& operator=(const ExternalMetric&) = delete;

  // Starts a poll when one is due; called by the control loop every 100 ms.
  void poll(int64_t now_ms);
  // The latest value, unless it is older than three intervals (then the source is down).
  std::optional<double> value(int64_t now_ms) const;
  const std::string& last_error() const { return last_error_; }

 private:
  void run_command(int64_t deadline_ms);
  // A poll's outcome: `body` to parse, or why there is none.
  void finished(bool ok, const std::string& body, const std::string& error);

  core::EventLoop& loop_;
  config::PolicyMetric metric_;
  http::HttpCallRequest request_;  // url / prometheus: resolved once
  bool http_ready_ = false;
  std::unique_ptr<http::HttpCall> call_;
  std::unique_ptr<ChildProcess> command_;
  int64_t command_deadline_ms_ = 0;
  bool command_timed_out_ = false;
  int64_t next_poll_ms_ = 0;
  std::optional<double> value_;
  int64_t value_ms_ = 0;
  std::string last_error_;
};

// The largest external metric value accepted: far above any real load figure, far below
// where the capacity arithmetic (value / target x instances) could overflow.
constexpr double kMaxExternalValue = 1e12;

// The number in `body` for `metric`'s kind: the whole (trimmed) output of a command, the
// field at `json_path` of a JSON document, or a Prometheus query's first sample. NaN,
// infinities, negative values and values above kMaxExternalValue are errors.
std::optional<double> parse_external_value(const config::PolicyMetric& metric,
                                           const std::string& body, std::string* error);

}  // namespace ballast::scale
