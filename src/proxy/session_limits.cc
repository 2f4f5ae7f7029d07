// Limits on what one client may take: a rule's request rate, the size and pace of a request
// body, and how long a response may wait for a client that does not read.
#include "core/clock.h"
#include "core/log.h"
#include "lb/hash.h"
#include "proxy/local_response.h"
#include "proxy/session.h"
#include "proxy/worker.h"

namespace ballast::proxy {

namespace {
constexpr int64_t kWatchdogTickMs = 1000;
}  // namespace

bool Session::inject_fault(const config::FaultConfig& fault, const http::MessageHead& head) {
  const core::FaultSettings& f = *fault.settings;
  auto drawn = [&](uint32_t share) {
    return share > 0 && worker_.random().below(core::FaultSettings::kWhole) < share;
  };
  metrics::RuleStats& stats = stats_->rule(exchange_.rule);
  if (drawn(f.reset_share.load(std::memory_order_relaxed))) {
    stats.faults[2].add();
    LOG_INFO("%s %s: fault injection reset the connection", peer_ip_.c_str(),
             listener_->name.c_str());
    close();
    return true;
  }
  if (drawn(f.abort_share.load(std::memory_order_relaxed))) {
    stats.faults[1].add();
    int status = f.abort_status.load(std::memory_order_relaxed);
    std::string body = std::to_string(status) + " fault injected (abort)\n";
    answer_here(
        GeneratedResponse{status, "text/plain; charset=utf-8", body, "", listener_->tls.hsts_line},
        head);
    return true;
  }
  if (drawn(f.delay_share.load(std::memory_order_relaxed)) &&
      f.delay_ms.load(std::memory_order_relaxed) > 0) {
    stats.faults[0].add();
    exchange_.fault_delaying = true;
  }
  return false;
}

bool Session::admit_by_rate_limit(const config::RuleConfig& rule, int position,
                                  const http::MessageHead& head) {
  const config::RateLimitConfig& limit = rule.rate_limit;
  if (!limit.limiter) return true;
  std::string_view key = peer_ip_;
  if (limit.key == config::RateLimitConfig::Key::kRule) {
    key = {};
  } else if (limit.key == config::RateLimitConfig::Key::kHeader) {
    if (std::string_view value = head.find(limit.header); !value.empty()) key = value;
  }
  // The key kind is mixed in, so that a header's value never shares a bucket with an
  // address that happens to read the same.
  uint64_t hash = lb::hash_bytes(key, static_cast<uint64_t>(limit.key));
  core::RateLimiter::Decision d = limit.limiter->admit(hash, core::monotonic_us());
  if (d.allowed) return true;
  stats_->rule(position).rate_limited.add();
  int64_t retry_s = (d.retry_after_us + 999999) / 1000000;
  std::string retry_after = "Retry-After: " + std::to_string(retry_s) + "\r\n";
  std::string body = "rule " + std::to_string(position) + " of listener \"" + listener_->name +
                     "\" allows " + std::to_string(limit.requests) + " requests per " +
                     std::to_string(limit.period_ms) + "ms; retry in " + std::to_string(retry_s) +
                     "s\n";
  answer_here(GeneratedResponse{429, "text/plain; charset=utf-8", body, "",
                                listener_->tls.hsts_line + retry_after,
                                rule.response_headers.own_response_lines},
              head);
  return false;
}

bool Session::admit_request_body(const http::MessageHead& head) {
  const config::ClientLimits& c = listener_->client_limits;
  if (c.max_request_body != 0 && head.has_content_length &&
      head.content_length > c.max_request_body) {
    fail_local(413, "the request body of " + std::to_string(head.content_length) +
                        " bytes is larger than max_request_body (" +
                        std::to_string(c.max_request_body) + " bytes)");
    return false;
  }
  if (head.chunked || head.content_length > 0) {
    exchange_.body_window_start_ms = worker_.loop().now_ms();
    watch_client();
  }
  return true;
}

void Session::count_body_bytes(size_t n) {
  exchange_.body_bytes += n;
  exchange_.body_window_bytes += n;
  uint64_t max = listener_->client_limits.max_request_body;
  if (max != 0 && exchange_.body_bytes > max) {
    // Only a chunked body can get here: its size is known as it comes.
    fail_local(413, "the request body is larger than max_request_body (" + std::to_string(max) +
                        " bytes)");
  }
}

void Session::note_send_progress() {
  if (queued_for_client() == 0) {
    send_stalled_since_ms_ = 0;
    return;
  }
  // Part went out, the rest waits for the client: from now on it has send_timeout to read.
  send_stalled_since_ms_ = worker_.loop().now_ms();
  watch_client();
}

void Session::watch_client() {
  if (!client_timer_.armed() && (phase_ == Phase::kExchange || phase_ == Phase::kClosing)) {
    worker_.loop().timers().arm(client_timer_, kWatchdogTickMs, worker_.loop().now_ms());
  }
}

void Session::on_watchdog() {
  const config::ClientLimits& c = listener_->client_limits;
  const int64_t now = worker_.loop().now_ms();
  // Whatever got sent since the stall began counts as progress (note_send_progress).
  if (queued_for_client() != 0 && send_stalled_since_ms_ != 0 &&
      now - send_stalled_since_ms_ >= c.send_timeout_ms) {
    LOG_INFO("%s %s: the client read nothing for %lldms (send_timeout), closed", peer_ip_.c_str(),
             listener_->name.c_str(), static_cast<long long>(now - send_stalled_since_ms_));
    close();
    return;
  }
  if (phase_ == Phase::kExchange && !exchange_.request_complete &&
      exchange_.body_window_start_ms != 0 && c.min_body_bytes_per_second != 0) {
    if (upstream_budget() == 0) {
      // ballast stopped reading (the target is slower): the client is not to blame.
      exchange_.body_window_start_ms = now;
      exchange_.body_window_bytes = 0;
    } else if (int64_t elapsed = now - exchange_.body_window_start_ms;
               elapsed > c.body_rate_grace_ms &&
               exchange_.body_window_bytes * 1000 <
                   c.min_body_bytes_per_second * static_cast<uint64_t>(elapsed)) {
      std::string why =
          "the request body came at " +
          std::to_string(exchange_.body_window_bytes * 1000 / static_cast<uint64_t>(elapsed)) +
          " bytes/s, below min_body_bytes_per_second (" +
          std::to_string(c.min_body_bytes_per_second) + ")";
      fail_local(408, why);  // closes at once if the response has started
      drive();
      return;
    }
  }
  bool body_expected = phase_ == Phase::kExchange && !exchange_.request_complete &&
                       exchange_.body_window_start_ms != 0;
  if (body_expected || queued_for_client() != 0) watch_client();
}

}  // namespace ballast::proxy
