// A Session's access-log line: what it notes as the exchange goes, and the record it
// hands to the worker's AccessLogWriter when the exchange ends.
#include <ctime>

#include "core/clock.h"
#include "proxy/session.h"
#include "proxy/target_group_runtime.h"

namespace ballast::proxy {

void Session::log_request(const http::MessageHead& head) {
  exchange_.log = ExchangeLog{};
  exchange_.log.pending = true;
  exchange_.log.unix_ms = core::unix_ms();
  exchange_.log.head_us = exchange_.head_us;
  exchange_.log.method.assign(head.method);
  exchange_.log.uri.assign(head.target);
  exchange_.log.user_agent.assign(head.find("User-Agent"));
  // A stream's Session sees HTTP/1.1; the client spoke HTTP/2.
  exchange_.log.protocol = port_ != nullptr          ? "HTTP/2.0"
                           : head.version_minor == 0 ? "HTTP/1.0"
                                                     : "HTTP/1.1";
  // The request head is already in client_in_ (counted) and nothing of the response is out.
  exchange_.log.in_mark = bytes_in_total_ - client_in_.size();
  exchange_.log.out_mark = bytes_out_total_ + queued_for_client();
}

void Session::log_forwarded(int rule, std::string_view request_id) {
  exchange_.log.rule = rule;
  exchange_.log.request_id.assign(request_id);
  exchange_.log.sent_us = core::monotonic_us();
  exchange_.log.target_group = exchange_.group != nullptr ? exchange_.group->name() : std::string();
}

void Session::log_response_head(int status) {
  exchange_.log.response_us = core::monotonic_us();
  exchange_.log.target_status = status;
  exchange_.log.status = status;
  if (exchange_.group != nullptr && exchange_.target >= 0) {
    exchange_.log.target = exchange_.group->target_text(static_cast<size_t>(exchange_.target));
  }
}

void Session::log_exchange(int status_if_none) {
  if (!exchange_.log.pending || !access_log_) return;
  exchange_.log.pending = false;
  int64_t end_us = core::monotonic_us();
  AccessRecord r;
  r.unix_ms = exchange_.log.unix_ms;
  r.listener = listener_->name;
  std::string client = peer_.to_string();
  r.client = client;
  r.target = exchange_.log.target;
  r.method = exchange_.log.method;
  r.uri = exchange_.log.uri;
  r.protocol = exchange_.log.protocol;
  r.status = exchange_.log.status != 0 ? exchange_.log.status : status_if_none;
  r.target_status = exchange_.log.target_status;
  // ALB's three times, with -1 for a stage that did not happen.
  if (exchange_.log.sent_us != 0) {
    r.request_s = static_cast<double>(exchange_.log.sent_us - exchange_.log.head_us) / 1e6;
    r.target_s = exchange_.log.response_us != 0
                     ? static_cast<double>(exchange_.log.response_us - exchange_.log.sent_us) / 1e6
                     : -1;
    r.response_s = exchange_.log.response_us != 0
                       ? static_cast<double>(end_us - exchange_.log.response_us) / 1e6
                       : -1;
  } else {
    r.request_s = -1;
    r.target_s = -1;
    r.response_s = static_cast<double>(end_us - exchange_.log.head_us) / 1e6;
  }
  r.received_bytes = bytes_in_total_ - client_in_.size() - exchange_.log.in_mark;
  r.sent_bytes = bytes_out_total_ + queued_for_client() - exchange_.log.out_mark;
  r.request_id = exchange_.log.request_id;
  r.rule = exchange_.log.rule;
  r.target_group = exchange_.log.target_group;
  r.user_agent = exchange_.log.user_agent;
  r.retries = exchange_.tried_count;
  access_log_->append(r);
}

}  // namespace ballast::proxy
