// A Session's access-log line: what it notes as the exchange goes, and the record it
// hands to the worker's AccessLogWriter when the exchange ends.
#include <ctime>

#include "core/clock.h"
#include "proxy/session.h"
#include "proxy/target_group_runtime.h"

namespace ballast::proxy {

void Session::log_request(const http::MessageHead& head) {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  log_ = ExchangeLog{};
  log_.pending = true;
  log_.unix_ms = static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
  log_.head_us = request_head_us_;
  log_.method.assign(head.method);
  log_.uri.assign(head.target);
  log_.user_agent.assign(head.find("User-Agent"));
  log_.http_minor = head.version_minor;
  // The request head is already in client_in_ (counted) and nothing of the response is out.
  log_.in_mark = bytes_in_total_ - client_in_.size();
  log_.out_mark = bytes_out_total_ + client_out_.size();
}

void Session::log_forwarded(int rule, std::string_view request_id) {
  log_.rule = rule;
  log_.request_id.assign(request_id);
  log_.sent_us = core::monotonic_us();
  log_.target_group = group_ != nullptr ? group_->name() : std::string();
}

void Session::log_response_head(int status) {
  log_.response_us = core::monotonic_us();
  log_.target_status = status;
  log_.status = status;
  if (group_ != nullptr && target_ >= 0) {
    log_.target = group_->target_text(static_cast<size_t>(target_));
  }
}

void Session::log_exchange(int status_if_none) {
  if (!log_.pending || !access_log_) return;
  log_.pending = false;
  int64_t end_us = core::monotonic_us();
  AccessRecord r;
  r.unix_ms = log_.unix_ms;
  r.listener = listener_->name;
  std::string client = peer_.to_string();
  r.client = client;
  r.target = log_.target;
  r.method = log_.method;
  r.uri = log_.uri;
  r.http_minor = log_.http_minor;
  r.status = log_.status != 0 ? log_.status : status_if_none;
  r.target_status = log_.target_status;
  // ALB's three times, with -1 for a stage that did not happen.
  if (log_.sent_us != 0) {
    r.request_s = static_cast<double>(log_.sent_us - log_.head_us) / 1e6;
    r.target_s =
        log_.response_us != 0 ? static_cast<double>(log_.response_us - log_.sent_us) / 1e6 : -1;
    r.response_s =
        log_.response_us != 0 ? static_cast<double>(end_us - log_.response_us) / 1e6 : -1;
  } else {
    r.request_s = -1;
    r.target_s = -1;
    r.response_s = static_cast<double>(end_us - log_.head_us) / 1e6;
  }
  r.received_bytes = bytes_in_total_ - client_in_.size() - log_.in_mark;
  r.sent_bytes = bytes_out_total_ + client_out_.size() - log_.out_mark;
  r.request_id = log_.request_id;
  r.rule = log_.rule;
  r.target_group = log_.target_group;
  r.user_agent = log_.user_agent;
  r.retries = tried_count_;
  access_log_->append(r);
}

}  // namespace ballast::proxy
