// The request/response exchange of a Session: parsing what arrives, routing, choosing
// and connecting to a target, re-framing bodies, and finishing or failing the exchange.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "core/clock.h"
#include "core/log.h"
#include "core/sockets.h"
#include "proxy/hash_key.h"
#include "proxy/local_response.h"
#include "proxy/router.h"
#include "proxy/session.h"
#include "proxy/worker.h"

namespace ballast::proxy {

namespace {
// RFC 9110 9.2.2: methods whose repetition has the same effect as one request.
bool is_idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
         method == "DELETE" || method == "TRACE";
}
}  // namespace

namespace {
// Bytes of output a session queues before it stops reading from the other side.
constexpr size_t kMaxQueued = 64 * 1024;

void append_chunk(core::Buffer& out, const char* data, size_t n) {
  out.append_hex(n);
  out.append("\r\n");
  out.append(data, n);
  out.append("\r\n");
}

std::string scan_error_text(http::ScanStatus status) {
  switch (status) {
    case http::ScanStatus::kBareLineFeed:
      return "a line ends with LF without CR";
    case http::ScanStatus::kObsFold:
      return "obsolete header line folding is not allowed";
    case http::ScanStatus::kStartLineTooLong:
      return "the start line is too long";
    case http::ScanStatus::kHeadersTooLarge:
      return "the headers are too large";
    default:
      return "malformed head";
  }
}
}  // namespace

size_t Session::upstream_budget() const {
  return upstream_out_.size() >= kMaxQueued ? 0 : kMaxQueued - upstream_out_.size();
}

size_t Session::client_budget() const {
  return client_out_.size() >= kMaxQueued ? 0 : kMaxQueued - client_out_.size();
}

bool Session::process_request_bytes() {
  if (client_in_.empty()) return false;
  size_t feed = 0;
  if (phase_ == Phase::kReadingHead) {
    if (!head_timer_armed_) {
      worker_.loop().timers().arm(client_timer_, listener_->header_timeout_ms,
                                  worker_.loop().now_ms());
      head_timer_armed_ = true;
    }
    http::ScanStatus status = request_scanner_.scan(client_in_.view());
    switch (status) {
      case http::ScanStatus::kNeedMore:
        return false;
      case http::ScanStatus::kStartLineTooLong:
        fail_local(414, "the request line is longer than " +
                            std::to_string(listener_->limits.max_request_line) + " bytes");
        return true;
      case http::ScanStatus::kHeadersTooLarge:
        fail_local(431, "the request headers are larger than " +
                            std::to_string(listener_->limits.max_header_size) + " bytes");
        return true;
      case http::ScanStatus::kComplete:
        break;
      default:
        fail_local(400, scan_error_text(status));
        return true;
    }
    client_timer_.cancel();
    head_timer_armed_ = false;
    phase_ = Phase::kExchange;
    size_t head = request_scanner_.head_length();
    feed = head + std::min(client_in_.size() - head, upstream_budget());
  } else if (phase_ == Phase::kExchange && !request_complete_) {
    feed = std::min(client_in_.size(), upstream_budget());
    if (feed == 0) return false;
  } else {
    return false;
  }
  http::MessageParser::Result r = request_parser_.execute(client_in_.data(), feed);
  if (phase_ == Phase::kClosed) return true;
  if (r.status == http::MessageParser::Status::kError) {
    if (phase_ != Phase::kClosing) {
      fail_local(request_parser_.error_status(),
                 "invalid request: " + request_parser_.error_reason());
    }
    return true;
  }
  client_in_.consume(r.consumed);
  if (r.status == http::MessageParser::Status::kMessageComplete) {
    request_complete_ = true;
    if (request_chunked_ && !local_exchange_) upstream_out_.append("0\r\n\r\n");
  }
  return true;
}

int Session::RequestSink::on_head(http::MessageHead& head) {
  s->on_request_head(head);
  return 0;
}

void Session::RequestSink::on_body(const char* data, size_t n) {
  s->on_request_body(data, n);
}

void Session::RequestSink::on_message_complete() {}

void Session::on_request_head(http::MessageHead& head) {
  request_keep_alive_ = head.keep_alive;
  client_http11_ = head.version_minor == 1;
  request_was_head_ = head.is_head_request;
  request_chunked_ = head.chunked;
  request_replayable_ = !head.chunked && head.content_length == 0;
  request_idempotent_ = is_idempotent(head.method);
  tried_count_ = 0;
  client_keep_alive_ = request_keep_alive_;

  stats_->requests.add();
  request_head_us_ = core::monotonic_us();
  if (access_log_) log_request(head);
  // A listener that a reload removed serves the request that was on its way under the
  // snapshot it arrived with, then the connection closes.
  if (!adopt_current_snapshot()) client_keep_alive_ = false;
  int rule = route(listener_->rules, head);
  rule_ = rule;
  if (rule >= 0) stats_->rule(rule).requests.add();
  if (access_log_) log_.rule = rule;
  if (rule < 0) {
    fail_local(404, "no rule of listener \"" + listener_->name + "\" matches this request");
    return;
  }
  const config::RuleConfig& matched = listener_->rules[static_cast<size_t>(rule)];
  request_idempotent_ = request_idempotent_ || matched.retry_non_idempotent;
  if (matched.action != config::RuleConfig::Action::kForward) {
    answer_from_rule(matched, head);
    return;
  }
  group_ = &snapshot_->group(choose_forward(matched, head));
  pick_ctx_ = lb::PickContext{};
  if (group_->uses_hash()) pick_ctx_.hash = request_hash(group_->config().hash_on, head, peer_ip_);
  target_ = sticky_target(head);
  if (target_ < 0) target_ = group_->pick(pick_ctx_);
  if (target_ < 0) {
    std::string name = group_->name();
    group_ = nullptr;
    fail_local(503, "target group \"" + name + "\" has no healthy target");
    return;
  }
  if (CircuitBreaker* breaker = group_->breaker(); breaker != nullptr) {
    if (!breaker->try_acquire(CircuitBreaker::Kind::kRequests)) {
      target_ = -1;  // not started on it
      reject_by_breaker(CircuitBreaker::Kind::kRequests);
      return;
    }
    // Slots go back to this breaker even if a reload replaces the group's meanwhile.
    held_breaker_ = group_->shared_breaker();
    holds_request_slot_ = true;
  }
  group_->request_started(static_cast<size_t>(target_));
  group_->stats().requests.add();
  request_started_us_ = request_head_us_;
  int64_t total = group_->config().total_timeout_ms;
  exchange_deadline_ms_ = total > 0 ? worker_.loop().now_ms() + total : 0;

  char request_id[36];
  worker_.request_ids().next(request_id);
  std::string fallback_host;
  if (head.host.empty()) fallback_host = group_->target_text(static_cast<size_t>(target_));
  ClientFacts facts{peer_ip_, "http", fallback_host,
                    std::string_view(request_id, sizeof(request_id))};
  write_upstream_request_head(head, facts, upstream_out_);
  if (access_log_) {
    std::string_view given = head.find("X-Request-Id");
    log_forwarded(rule, given.empty() ? std::string_view(request_id, sizeof(request_id)) : given);
  }
  connect_upstream(/*fresh=*/false);
}

int Session::sticky_target(const http::MessageHead& request) {
  const std::string& name = group_->sticky_cookie_name();
  sticky_ = !name.empty();
  if (!sticky_) return -1;
  // A cookie naming a target that is gone or not usable is ignored: the request is
  // balanced as usual and the response pins the client to its new target.
  for (const auto& h : request.headers) {
    std::string_view value;
    if (!http::iequals(h.name, "cookie") || !find_cookie(h.value, name, &value)) continue;
    uint64_t id = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), id, 16);
    if (ec != std::errc() || end != value.data() + value.size()) return -1;
    return group_->find_usable(id);
  }
  return -1;
}

std::string Session::sticky_cookie_line(const http::MessageHead& response) const {
  if (!sticky_ || group_ == nullptr || target_ < 0) return {};
  const auto& st = group_->config().stickiness;
  if (st.type == config::TargetGroupConfig::Stickiness::Type::kAppCookie) {
    // Pin only once the application has a session to pin: it sets its cookie.
    bool sets_app_cookie = false;
    for (const auto& h : response.headers) {
      if (http::iequals(h.name, "set-cookie") && h.value.starts_with(st.cookie_name) &&
          h.value.substr(st.cookie_name.size()).starts_with('=')) {
        sets_app_cookie = true;
      }
    }
    if (!sets_app_cookie) return {};
  }
  return "Set-Cookie: " + group_->sticky_cookie_name() + "=" +
         hex_id(group_->target_id(static_cast<size_t>(target_))) +
         "; Max-Age=" + std::to_string(st.duration_ms / 1000) + "; Path=/; HttpOnly\r\n";
}

size_t Session::choose_forward(const config::RuleConfig& rule, const http::MessageHead& head) {
  const auto& forward = rule.forward;
  if (forward.size() == 1) return forward[0].target_group_index;
  const config::RuleConfig::ForwardTo* chosen = nullptr;
  std::string cookie;
  if (rule.group_stickiness_ms > 0) {
    // Group-level stickiness (ALB's target group stickiness): a client stays on the group
    // it was sent to, so a blue/green or canary split does not flip it between versions.
    cookie = "BALLASTTG_" + cookie_safe(listener_->name);
    for (const auto& h : head.headers) {
      std::string_view value;
      if (!http::iequals(h.name, "cookie") || !find_cookie(h.value, cookie, &value)) continue;
      for (const auto& f : forward) {
        if (f.weight > 0 && value == hex_id(lb::hash_bytes(f.target_group))) chosen = &f;
      }
    }
  }
  if (chosen == nullptr) {
    // A weighted draw per request.
    uint64_t total = 0;
    for (const auto& f : forward) total += f.weight;
    uint64_t point = worker_.random().below(total);
    chosen = &forward.back();
    for (const auto& f : forward) {
      if (point < f.weight) {
        chosen = &f;
        break;
      }
      point -= f.weight;
    }
  }
  if (!cookie.empty()) {
    group_cookie_line_ =
        "Set-Cookie: " + cookie + "=" + hex_id(lb::hash_bytes(chosen->target_group)) +
        "; Max-Age=" + std::to_string(rule.group_stickiness_ms / 1000) + "; Path=/; HttpOnly\r\n";
  }
  return chosen->target_group_index;
}

void Session::answer_from_rule(const config::RuleConfig& rule, const http::MessageHead& head) {
  // Answered here, like a target's response: the request body (if any) is read and
  // dropped, and the connection stays open when the client wants it.
  local_exchange_ = true;
  std::string location;
  if (rule.action == config::RuleConfig::Action::kRedirect) {
    location =
        expand_location(rule.location_template, head.host, head.target, listener_->bind.port());
  }
  write_generated_response(
      client_out_, GeneratedResponse{rule.status, rule.content_type, rule.body, location},
      head.is_head_request, client_http11_, client_keep_alive_ && !worker_.draining());
  count_response(rule.status);
  response_started_ = true;
  response_complete_ = true;
}

void Session::on_request_body(const char* data, size_t n) {
  if (phase_ != Phase::kExchange || local_exchange_) return;  // answered locally
  if (request_chunked_)
    append_chunk(upstream_out_, data, n);
  else
    upstream_out_.append(data, n);
}

bool Session::connect_upstream(bool fresh) {
  TargetPool& pool = group_->pool(static_cast<size_t>(target_));
  upstream_ = fresh ? pool.connect_new() : pool.acquire();
  if (!upstream_ && pool.refused_by_breaker()) {
    reject_by_breaker(CircuitBreaker::Kind::kConnections);
    return false;
  }
  if (upstream_ && !upstream_->reused && held_breaker_ != nullptr && !holds_pending_slot_) {
    // A request waiting for a new connection is pending until the handshake completes.
    if (!held_breaker_->try_acquire(CircuitBreaker::Kind::kPendingRequests)) {
      upstream_->pool()->discard(std::move(upstream_));
      reject_by_breaker(CircuitBreaker::Kind::kPendingRequests);
      return false;
    }
    holds_pending_slot_ = true;
  }
  if (!upstream_) {
    upstream_failed("could not connect to target " +
                    group_->target_text(static_cast<size_t>(target_)) + " (" + strerror(errno) +
                    ")");
    return false;
  }
  upstream_->owner = this;
  upstream_eof_ = false;
  // Keep the head when it may have to go out again: on a reused connection that turns
  // out to be stale, or to another target when this one fails (idempotent requests).
  bool may_retry = request_idempotent_ && group_->config().retries > 0;
  if (request_replayable_ && (upstream_->reused || may_retry)) {
    replay_.assign(upstream_out_.data(), upstream_out_.size());
  }
  if (upstream_->reused) {
    on_upstream_connected();
    upstream_->writable = true;
  } else {
    worker_.loop().timers().arm(upstream_timer_, try_budget_ms(group_->config().connect_timeout_ms),
                                worker_.loop().now_ms());
  }
  return true;
}

void Session::on_upstream_connected() {
  upstream_->connected = true;
  release_pending_slot();
  worker_.loop().timers().arm(upstream_timer_, try_budget_ms(group_->config().request_timeout_ms),
                              worker_.loop().now_ms());
}

void Session::upstream_failed(const std::string& what) {
  bool stale_keepalive =
      upstream_ && upstream_->reused && !response_head_done_ && upstream_in_.empty();
  if (stale_keepalive && request_replayable_ && request_complete_ && !retried_ &&
      !replay_.empty()) {
    // The target closed an idle connection as we reused it; nothing was processed.
    retried_ = true;
    upstream_->pool()->discard(std::move(upstream_));
    upstream_out_.consume(upstream_out_.size());
    upstream_out_.append(replay_);
    connect_upstream(/*fresh=*/true);
    return;
  }
  if (retry_elsewhere(what)) return;
  fail_local(502, what);
}

void Session::release_group_slots() {
  if (retrying_ && group_ != nullptr) group_->retry_finished();
  retrying_ = false;
  release_pending_slot();
  if (holds_request_slot_) held_breaker_->release(CircuitBreaker::Kind::kRequests);
  holds_request_slot_ = false;
  held_breaker_.reset();
}

void Session::release_pending_slot() {
  if (holds_pending_slot_) held_breaker_->release(CircuitBreaker::Kind::kPendingRequests);
  holds_pending_slot_ = false;
}

void Session::reject_by_breaker(CircuitBreaker::Kind kind) {
  CircuitBreaker* breaker = held_breaker_ ? held_breaker_.get() : group_->breaker();
  group_->stats().breaker_rejections[static_cast<size_t>(kind)].add();
  fail_local(503, "target group \"" + group_->name() + "\" is at its " +
                      CircuitBreaker::name(kind) + " limit (" +
                      std::to_string(breaker->limit(kind)) + "); try again later");
}

int Session::retry_target() {
  if (group_ == nullptr || target_ < 0 || !request_replayable_ || !request_idempotent_ ||
      !request_complete_ || response_head_done_ || response_started_) {
    return -1;
  }
  if (static_cast<uint32_t>(tried_count_) >= group_->config().retries ||
      tried_count_ >= kMaxTries - 1)
    return -1;
  if (exchange_deadline_ms_ != 0 && worker_.loop().now_ms() >= exchange_deadline_ms_) return -1;
  if (upstream_out_.empty() && replay_.empty()) return -1;  // nothing kept to send again
  if (!retrying_ && !group_->retry_allowed()) {
    LOG_WARN("%s %s: retry budget of target group \"%s\" spent; not retrying", peer_ip_.c_str(),
             listener_->name.c_str(), group_->name().c_str());
    return -1;
  }
  tried_[tried_count_] = target_;
  return group_->pick_excluding(
      pick_ctx_, std::span<const int>(tried_, static_cast<size_t>(tried_count_) + 1));
}

void Session::retry_on(int other, const std::string& what) {
  // The head to send again: still queued if nothing went out, else the copy kept for replays.
  std::string head = upstream_out_.empty() ? replay_ : std::string(upstream_out_.view());
  tried_[tried_count_++] = target_;
  auto failed = static_cast<size_t>(target_);
  group_->record_outcome(failed, /*failed=*/true);
  group_->target_stats(failed).failures.add();
  group_->stats().retries.add();
  LOG_INFO("%s %s: %s; retrying on %s", peer_ip_.c_str(), listener_->name.c_str(), what.c_str(),
           group_->target_text(static_cast<size_t>(other)).c_str());
  if (upstream_) upstream_->pool()->discard(std::move(upstream_));
  upstream_timer_.cancel();
  group_->request_finished(failed);
  target_ = other;
  group_->request_started(static_cast<size_t>(target_));
  request_started_us_ = core::monotonic_us();
  if (!retrying_) {
    retrying_ = true;
    group_->retry_started();
  }
  upstream_out_.consume(upstream_out_.size());
  upstream_out_.append(head);
  replay_ = std::move(head);
  retried_ = false;  // the stale-connection replay is allowed again on the new target
  connect_upstream(/*fresh=*/false);
}

bool Session::retry_elsewhere(const std::string& what) {
  int other = retry_target();
  if (other < 0) return false;
  retry_on(other, what);
  return true;
}

bool Session::retries_status(int status) const {
  const auto& statuses = group_->config().retry_on_status;
  return std::find(statuses.begin(), statuses.end(), status) != statuses.end();
}

int64_t Session::try_budget_ms(int64_t per_try) const {
  if (exchange_deadline_ms_ == 0) return per_try;
  return std::clamp<int64_t>(exchange_deadline_ms_ - worker_.loop().now_ms(), 1, per_try);
}

bool Session::process_response_bytes() {
  if (phase_ != Phase::kExchange || !upstream_ || response_complete_) return false;
  bool progress = false;
  while (!upstream_in_.empty() && phase_ == Phase::kExchange && !response_complete_) {
    size_t feed;
    if (!response_head_done_) {
      http::ScanStatus status = response_scanner_.scan(upstream_in_.view());
      if (status == http::ScanStatus::kNeedMore) break;
      if (status != http::ScanStatus::kComplete) {
        fail_local(502, "target " + group_->target_text(static_cast<size_t>(target_)) +
                            " sent an invalid response: " + scan_error_text(status));
        return true;
      }
      size_t head = response_scanner_.head_length();
      feed = head + std::min(upstream_in_.size() - head, client_budget());
    } else {
      feed = std::min(upstream_in_.size(), client_budget());
      if (feed == 0) break;
    }
    response_parser_.set_request_was_head(request_was_head_);
    http::MessageParser::Result r = response_parser_.execute(upstream_in_.data(), feed);
    if (phase_ != Phase::kExchange) return true;
    if (r.status == http::MessageParser::Status::kError || protocol_error_) {
      std::string reason =
          protocol_error_ ? protocol_error_reason_ : response_parser_.error_reason();
      fail_local(502, "target " + group_->target_text(static_cast<size_t>(target_)) +
                          " sent an invalid response: " + reason);
      return true;
    }
    upstream_in_.consume(r.consumed);
    progress = true;
    if (status_retry_target_ >= 0) {
      retry_after_status();
      return true;
    }
    if (r.status == http::MessageParser::Status::kMessageComplete) {
      response_parser_.next_message();
      if (response_interim_) {
        // A 1xx (100 Continue, 103 Early Hints): the final response follows.
        response_interim_ = false;
        response_head_done_ = false;
        response_scanner_.reset();
        continue;
      }
      on_response_complete();
    }
  }
  if (upstream_eof_ && phase_ == Phase::kExchange && !response_complete_ &&
      (upstream_in_.empty() || !response_head_done_)) {
    handle_upstream_eof();
    progress = true;
  }
  return progress;
}

void Session::retry_after_status() {
  int other = status_retry_target_;
  int status = status_retry_status_;
  status_retry_target_ = -1;
  // The dropped response's body (if any) is never read: the connection goes, not reused.
  response_parser_.next_message();
  response_scanner_.reset();
  upstream_in_.consume(upstream_in_.size());
  upstream_reusable_ = false;
  retry_on(other, "target " + group_->target_text(static_cast<size_t>(target_)) + " answered " +
                      std::to_string(status));
}

void Session::handle_upstream_eof() {
  if (!response_head_done_) {
    upstream_failed("target " + group_->target_text(static_cast<size_t>(target_)) +
                    " closed the connection without a complete response");
    return;
  }
  http::MessageParser::Result r = response_parser_.finish();
  if (r.status == http::MessageParser::Status::kMessageComplete) {
    response_parser_.next_message();
    upstream_reusable_ = false;
    on_response_complete();
    return;
  }
  // The body was cut short: the client must not mistake it for a whole one.
  LOG_WARN("%s: target %s closed the connection in the middle of a response",
           listener_->name.c_str(), group_->target_text(static_cast<size_t>(target_)).c_str());
  close();
}

int Session::ResponseSink::on_head(http::MessageHead& head) {
  return s->on_response_head(head);
}

void Session::ResponseSink::on_body(const char* data, size_t n) {
  s->on_response_body(data, n);
}

void Session::ResponseSink::on_message_complete() {}

int Session::on_response_head(http::MessageHead& head) {
  if (head.status == 101 || head.upgrade) {
    protocol_error_ = true;
    protocol_error_reason_ = "switched protocols without being asked to";
    return 1;
  }
  if (head.status < 200) {
    response_interim_ = true;
    if (client_http11_)
      write_client_response_head(head, ClientFraming::kNone, true, true, client_out_);
    return 1;
  }
  if (retries_status(head.status)) {
    int other = retry_target();
    if (other >= 0) {
      // Not forwarded: process_response_bytes() drops it and sends the request to `other`.
      status_retry_target_ = other;
      status_retry_status_ = head.status;
      return 1;
    }
  }
  response_head_done_ = true;
  auto target = static_cast<size_t>(target_);
  group_->record_outcome(target, head.status >= 500);
  int64_t waited_us = core::monotonic_us() - request_started_us_;
  if (group_->measures_time()) group_->record_response_time(target, waited_us);
  metrics::TargetStats& ts = group_->target_stats(target);
  ts.responses.count(head.status);
  ts.response_time.record(static_cast<uint64_t>(waited_us));
  group_->stats().responses.count(head.status);
  group_->stats().response_time.record(static_cast<uint64_t>(waited_us));
  count_client_status(head.status);
  if (access_log_) log_response_head(head.status);
  bool no_body = request_was_head_ || head.status == 204 || head.status == 304;
  framing_ = choose_client_framing(head, no_body, client_http11_);
  upstream_reusable_ = head.keep_alive;
  if (framing_ == ClientFraming::kUntilClose || worker_.draining()) client_keep_alive_ = false;
  if (!request_complete_) client_keep_alive_ = false;  // early response: rest of request unread
  write_client_response_head(head, framing_, client_http11_, client_keep_alive_, client_out_,
                             sticky_cookie_line(head) + group_cookie_line_);
  response_started_ = true;
  return no_body ? 1 : 0;
}

void Session::on_response_body(const char* data, size_t n) {
  if (framing_ == ClientFraming::kChunked)
    append_chunk(client_out_, data, n);
  else
    client_out_.append(data, n);
}

void Session::on_response_complete() {
  if (framing_ == ClientFraming::kChunked) client_out_.append("0\r\n\r\n");
  response_complete_ = true;
  if (!request_complete_) {
    // The target answered before the whole request arrived: the rest of the request
    // cannot be told apart from a next request, so both connections end here.
    upstream_reusable_ = false;
    finish_exchange();
  }
}

void Session::finish_exchange() {
  upstream_timer_.cancel();
  if (upstream_) {
    bool reusable = upstream_reusable_ && upstream_in_.empty() && upstream_out_.empty() &&
                    request_complete_ && !upstream_eof_ && !upstream_->hangup;
    TargetPool* pool = upstream_->pool();
    if (reusable)
      pool->release(std::move(upstream_));
    else
      pool->discard(std::move(upstream_));
  }
  if (group_ != nullptr && target_ >= 0) group_->request_finished(static_cast<size_t>(target_));
  release_group_slots();
  record_total_time();
  if (log_.pending) log_exchange();
  bool keep_alive = client_keep_alive_ && request_complete_ && !worker_.draining() &&
                    !client_eof_ && adopt_current_snapshot();
  reset_exchange();
  if (!keep_alive) {
    start_closing();
    return;
  }
  phase_ = Phase::kReadingHead;
  first_request_ = false;
  request_parser_.next_message();
  request_scanner_.reset();
  if (client_in_.empty()) {
    worker_.loop().timers().arm(client_timer_, listener_->idle_timeout_ms, worker_.loop().now_ms());
    head_timer_armed_ = false;
  }
}

void Session::reset_exchange() {
  group_ = nullptr;
  target_ = -1;
  upstream_eof_ = false;
  request_chunked_ = false;
  request_complete_ = false;
  request_replayable_ = false;
  local_exchange_ = false;
  retried_ = false;
  tried_count_ = 0;
  exchange_deadline_ms_ = 0;
  status_retry_target_ = -1;
  rule_ = -1;
  group_cookie_line_.clear();
  replay_.clear();
  response_head_done_ = false;
  response_started_ = false;
  response_complete_ = false;
  response_interim_ = false;
  upstream_reusable_ = false;
  protocol_error_ = false;
  framing_ = ClientFraming::kNone;
  response_scanner_.reset();
  upstream_in_.consume(upstream_in_.size());
  upstream_out_.consume(upstream_out_.size());
}

void Session::on_upstream_timer(void* self) {
  auto* s = static_cast<Session*>(self);
  if (s->phase_ != Phase::kExchange || s->group_ == nullptr) return;
  const std::string& target = s->group_->target_text(static_cast<size_t>(s->target_));
  if (s->upstream_ && !s->upstream_->connected) {
    if (s->retry_elsewhere("target " + target + " did not accept the connection within " +
                           std::to_string(s->group_->config().connect_timeout_ms) + "ms")) {
      s->drive();
      return;
    }
    s->fail_local(504, "target " + target + " did not accept the connection within " +
                           std::to_string(s->group_->config().connect_timeout_ms) + "ms");
  } else {
    const auto& g = s->group_->config();
    bool total_spent =
        s->exchange_deadline_ms_ != 0 && s->worker_.loop().now_ms() >= s->exchange_deadline_ms_;
    std::string what = total_spent ? "target group \"" + g.name + "\" did not respond within " +
                                         "total_timeout " + std::to_string(g.total_timeout_ms) +
                                         "ms (" + std::to_string(s->tried_count_ + 1) + " tries)"
                                   : "target " + target + " did not respond within " +
                                         std::to_string(g.request_timeout_ms) + "ms";
    if (!total_spent && s->retries_status(504) && s->retry_elsewhere(what)) {
      s->drive();
      return;
    }
    s->fail_local(504, what);
  }
  s->drive();
}

}  // namespace ballast::proxy
