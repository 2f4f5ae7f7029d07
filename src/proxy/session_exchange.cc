// The request/response exchange of a Session: parsing what arrives, routing, choosing
// and connecting to a target, re-framing bodies, and finishing or failing the exchange.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "core/clock.h"
#include "core/log.h"
#include "core/sockets.h"
#include "http/chunked.h"
#include "proxy/hash_key.h"
#include "proxy/local_response.h"
#include "proxy/proxy_protocol.h"
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

bool Session::process_proxy_header() {
  ProxyHeader h = parse_proxy_header(client_in_.view());
  if (h.status == ProxyHeader::Status::kNeedMore && client_in_.size() > 4096)
    h = {ProxyHeader::Status::kInvalid, 0, {}, {}, "PROXY header longer than 4096 bytes"};
  switch (h.status) {
    case ProxyHeader::Status::kNeedMore:
      return false;
    case ProxyHeader::Status::kInvalid:
      fail_local(400, "invalid PROXY protocol header from a trusted proxy: " + h.error);
      return true;
    case ProxyHeader::Status::kComplete:
      break;
  }
  client_in_.consume(h.length);
  if (h.source) {
    peer_ = *h.source;
    peer_ip_ = peer_.ip_string();
  }
  phase_ = Phase::kReadingHead;
  return true;
}

bool Session::process_request_bytes() {
  // A stored body still going out: the next response must not be queued before it.
  if (client_in_.empty() || stored_body_) return false;
  if (phase_ == Phase::kProxyHeader) return process_proxy_header();
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
  } else if (phase_ == Phase::kExchange && !exchange_.request_complete) {
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
    exchange_.request_complete = true;
    if (exchange_.request.chunked && exchange_.answerer == Exchange::Answerer::kTarget)
      upstream_out_.append(http::kLastChunk);
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
  exchange_.keep_alive = head.keep_alive;
  exchange_.request.http11 = head.version_minor == 1;
  exchange_.request.head_method = head.is_head_request;
  exchange_.request.chunked = head.chunked;
  exchange_.request.replayable = !head.chunked && head.content_length == 0;
  exchange_.request.idempotent = is_idempotent(head.method);
  exchange_.request.websocket = head.upgrade && head.version_minor == 1 && head.method == "GET" &&
                                exchange_.request.replayable &&
                                http::iequals(head.find("upgrade"), "websocket");

  stats_->requests.add();
  exchange_.head_us = core::monotonic_us();
  if (access_log_) log_request(head);
  // A listener that a reload removed serves the request that was on its way under the
  // snapshot it arrived with, then the connection closes.
  if (!adopt_current_snapshot()) exchange_.keep_alive = false;
  if (!admit_request_body(head)) return;
  if (answer_acme_challenge(head)) return;
  int rule = route(listener_->rules, head);
  exchange_.rule = rule;
  if (rule >= 0) stats_->rule(rule).requests.add();
  if (access_log_) exchange_.log.rule = rule;
  if (rule < 0) {
    fail_local(404, "no rule of listener \"" + listener_->name + "\" matches this request");
    return;
  }
  const config::RuleConfig& matched = listener_->rules[static_cast<size_t>(rule)];
  if (!admit_by_rate_limit(matched, rule, head)) return;
  note_accepted_coding(matched, head);
  exchange_.request.idempotent = exchange_.request.idempotent || matched.retry_non_idempotent;
  if (matched.action != config::RuleConfig::Action::kForward) {
    answer_from_rule(matched, head);
    return;
  }
  if (matched.cache.enabled && consult_cache(matched, head)) return;
  forward_request(matched, head);
}

void Session::forward_request(const config::RuleConfig& matched, const http::MessageHead& head) {
  if (matched.fault.enabled && inject_fault(matched.fault, head)) return;
  int rule = exchange_.rule;
  exchange_.group = &snapshot_->group(choose_forward(matched, head));
  exchange_.pick = lb::PickContext{};
  if (exchange_.group->uses_hash())
    exchange_.pick.hash = request_hash(exchange_.group->config().hash_on, head, peer_ip_);
  exchange_.target = sticky_target(head);
  if (exchange_.target < 0) exchange_.target = exchange_.group->pick(exchange_.pick);
  if (exchange_.target < 0) {
    std::string name = exchange_.group->name();
    exchange_.group = nullptr;
    fail_local(503, "target group \"" + name + "\" has no healthy target");
    return;
  }
  if (CircuitBreaker* breaker = exchange_.group->breaker(); breaker != nullptr) {
    if (!breaker->try_acquire(CircuitBreaker::Kind::kRequests)) {
      exchange_.target = -1;  // not started on it
      reject_by_breaker(CircuitBreaker::Kind::kRequests);
      return;
    }
    // Slots go back to this breaker even if a reload replaces the group's meanwhile.
    exchange_.breaker = exchange_.group->shared_breaker();
    exchange_.holds_request_slot = true;
  }
  exchange_.group->request_started(static_cast<size_t>(exchange_.target));
  exchange_.group->stats().requests.add();
  exchange_.try_us = exchange_.head_us;
  int64_t total = exchange_.group->config().total_timeout_ms;
  exchange_.deadline_ms = total > 0 ? worker_.loop().now_ms() + total : 0;

  char request_id[36];
  worker_.request_ids().next(request_id);
  std::string fallback_host;
  if (head.host.empty())
    fallback_host = exchange_.group->target_text(static_cast<size_t>(exchange_.target));
  ClientFacts facts;
  facts.client_ip = peer_ip_;
  facts.proto = secure_ ? "https" : "http";
  facts.fallback_host = fallback_host;
  facts.request_id = std::string_view(request_id, sizeof(request_id));
  if (exchange_.request.websocket) facts.upgrade = "websocket";
  if (!listener_->tls.client_ca.empty()) {
    facts.client_subject_header = listener_->tls.client_subject_header;
    facts.client_subject = client_subject_;
  }
  std::string validators;
  bool revalidating = exchange_.cache.step == CacheExchange::Step::kRevalidating ||
                      (exchange_.cache.step == CacheExchange::Step::kRefreshing &&
                       (!exchange_.cache.stored->etag().empty() ||
                        !exchange_.cache.stored->last_modified().empty()));
  if (revalidating) {
    facts.conditionals = ClientFacts::Conditionals::kRevalidate;
    std::string_view etag = exchange_.cache.stored->etag();
    std::string_view last_modified = exchange_.cache.stored->last_modified();
    if (!etag.empty()) validators += "If-None-Match: " + std::string(etag) + "\r\n";
    if (!last_modified.empty())
      validators += "If-Modified-Since: " + std::string(last_modified) + "\r\n";
    facts.validators = validators;
  } else if (exchange_.cache.capture_possible()) {
    facts.conditionals = ClientFacts::Conditionals::kDrop;
  }
  if (exchange_.cache.rule != nullptr) exchange_.cache.request_time = core::unix_seconds();
  write_upstream_request_head(head, facts, upstream_out_);
  if (access_log_) {
    std::string_view given = head.find("X-Request-Id");
    log_forwarded(rule, given.empty() ? std::string_view(request_id, sizeof(request_id)) : given);
  }
  if (exchange_.fault_delaying) {
    worker_.loop().timers().arm(upstream_timer_, matched.fault.settings->delay_ms.load(),
                                worker_.loop().now_ms());
    return;
  }
  connect_upstream(/*fresh=*/false);
}

int Session::sticky_target(const http::MessageHead& request) {
  const std::string& name = exchange_.group->sticky_cookie_name();
  exchange_.sticky = !name.empty();
  if (!exchange_.sticky) return -1;
  // A cookie naming a target that is gone or not usable is ignored: the request is
  // balanced as usual and the response pins the client to its new target.
  for (const auto& h : request.headers) {
    std::string_view value;
    if (!http::iequals(h.name, "cookie") || !find_cookie(h.value, name, &value)) continue;
    uint64_t id = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), id, 16);
    if (ec != std::errc() || end != value.data() + value.size()) return -1;
    return exchange_.group->find_usable(id);
  }
  return -1;
}

std::string Session::sticky_cookie_line(const http::MessageHead& response) const {
  if (!exchange_.sticky || exchange_.group == nullptr || exchange_.target < 0) return {};
  const auto& st = exchange_.group->config().stickiness;
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
  return "Set-Cookie: " + exchange_.group->sticky_cookie_name() + "=" +
         hex_id(exchange_.group->target_id(static_cast<size_t>(exchange_.target))) +
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
    exchange_.group_cookie_line =
        "Set-Cookie: " + cookie + "=" + hex_id(lb::hash_bytes(chosen->target_group)) +
        "; Max-Age=" + std::to_string(rule.group_stickiness_ms / 1000) + "; Path=/; HttpOnly\r\n";
  }
  return chosen->target_group_index;
}

bool Session::answer_acme_challenge(const http::MessageHead& head) {
  const auto& board = snapshot_->config().acme_challenges;
  if (!board || !board->has_http() || !head.target.starts_with(tls::kAcmeChallengePath) ||
      (head.method != "GET" && head.method != "HEAD")) {
    return false;
  }
  std::optional<std::string> answer =
      board->answer_http(head.target.substr(tls::kAcmeChallengePath.size()));
  if (!answer) return false;
  answer_here(GeneratedResponse{200, "application/octet-stream", *answer, "", ""}, head);
  return true;
}

void Session::answer_here(const GeneratedResponse& response, const http::MessageHead& head) {
  // Answered here, like a target's response: the request body (if any) is read and
  // dropped, and the connection stays open when the client wants it.
  exchange_.answerer = Exchange::Answerer::kBallast;
  write_generated_response(client_out_, response, head.is_head_request, exchange_.request.http11,
                           exchange_.keep_alive && !worker_.draining());
  count_response(response.status);
  exchange_.response = Exchange::Response::kComplete;
}

void Session::answer_from_rule(const config::RuleConfig& rule, const http::MessageHead& head) {
  std::string location;
  if (rule.action == config::RuleConfig::Action::kRedirect) {
    location = expand_location(rule.location_template, head.host, head.target,
                               listener_->bind.port(), secure_ ? "https" : "http");
  }
  answer_here(GeneratedResponse{rule.status, rule.content_type, rule.body, location,
                                listener_->tls.hsts_line, rule.response_headers.own_response_lines},
              head);
}

void Session::on_request_body(const char* data, size_t n) {
  if (phase_ != Phase::kExchange) return;  // refused
  count_body_bytes(n);
  if (phase_ != Phase::kExchange || exchange_.answerer == Exchange::Answerer::kBallast)
    return;  // answered locally
  if (exchange_.request.chunked)
    http::append_chunk(upstream_out_, data, n);
  else
    upstream_out_.append(data, n);
}

bool Session::connect_upstream(bool fresh) {
  TargetPool& pool = exchange_.group->pool(static_cast<size_t>(exchange_.target));
  // A WebSocket upgrade needs a connection of its own, whatever the group's protocol.
  bool http1_only = exchange_.request.websocket;
  exchange_.upstream = fresh ? pool.connect_new(http1_only) : pool.acquire(http1_only);
  if (!exchange_.upstream && pool.refused_by_breaker()) {
    reject_by_breaker(CircuitBreaker::Kind::kConnections);
    return false;
  }
  if (exchange_.upstream && !exchange_.upstream->reused && exchange_.breaker != nullptr &&
      !exchange_.holds_pending_slot) {
    // A request waiting for a new connection is pending until the handshake completes.
    if (!exchange_.breaker->try_acquire(CircuitBreaker::Kind::kPendingRequests)) {
      exchange_.upstream->pool()->discard(std::move(exchange_.upstream));
      reject_by_breaker(CircuitBreaker::Kind::kPendingRequests);
      return false;
    }
    exchange_.holds_pending_slot = true;
  }
  if (!exchange_.upstream) {
    upstream_failed("could not connect to target " +
                    exchange_.group->target_text(static_cast<size_t>(exchange_.target)) + " (" +
                    strerror(errno) + ")");
    return false;
  }
  exchange_.upstream->owner = this;
  exchange_.upstream_eof = false;
  // Keep the head when it may have to go out again: on a reused connection that turns
  // out to be stale, on an HTTP/2 stream the target refuses, or to another target when
  // this one fails (idempotent requests).
  bool may_retry = exchange_.request.idempotent && exchange_.group->config().retries > 0;
  if (exchange_.request.replayable &&
      (exchange_.upstream->reused || may_retry || exchange_.upstream->is_http2_stream())) {
    replay_.assign(upstream_out_.data(), upstream_out_.size());
  }
  if (exchange_.upstream->reused) {
    on_upstream_connected();
    exchange_.upstream->writable = true;
  } else {
    worker_.loop().timers().arm(upstream_timer_,
                                try_budget_ms(exchange_.group->config().connect_timeout_ms),
                                worker_.loop().now_ms());
  }
  return true;
}

void Session::on_upstream_connected() {
  exchange_.upstream->connected = true;
  release_pending_slot();
  worker_.loop().timers().arm(upstream_timer_,
                              try_budget_ms(exchange_.group->config().request_timeout_ms),
                              worker_.loop().now_ms());
}

void Session::upstream_failed(const std::string& what) {
  bool stale_keepalive = exchange_.upstream && exchange_.upstream->failure_is_replayable() &&
                         !exchange_.final_head_done() && upstream_in_.empty();
  if (stale_keepalive && exchange_.request.replayable && exchange_.request_complete &&
      !exchange_.replayed_stale && !replay_.empty()) {
    // The target closed an idle connection as we reused it; nothing was processed.
    exchange_.replayed_stale = true;
    exchange_.upstream->pool()->discard(std::move(exchange_.upstream));
    upstream_out_.consume(upstream_out_.size());
    upstream_out_.append(replay_);
    connect_upstream(/*fresh=*/true);
    return;
  }
  if (retry_elsewhere(what)) return;
  fail_local(502, what);
}

void Session::release_group_slots() {
  if (exchange_.counts_in_retry_budget && exchange_.group != nullptr)
    exchange_.group->retry_finished();
  exchange_.counts_in_retry_budget = false;
  release_pending_slot();
  if (exchange_.holds_request_slot) exchange_.breaker->release(CircuitBreaker::Kind::kRequests);
  exchange_.holds_request_slot = false;
  exchange_.breaker.reset();
}

void Session::release_pending_slot() {
  if (exchange_.holds_pending_slot)
    exchange_.breaker->release(CircuitBreaker::Kind::kPendingRequests);
  exchange_.holds_pending_slot = false;
}

void Session::reject_by_breaker(CircuitBreaker::Kind kind) {
  CircuitBreaker* breaker =
      exchange_.breaker ? exchange_.breaker.get() : exchange_.group->breaker();
  exchange_.group->stats().breaker_rejections[static_cast<size_t>(kind)].add();
  fail_local(503, "target group \"" + exchange_.group->name() + "\" is at its " +
                      CircuitBreaker::name(kind) + " limit (" +
                      std::to_string(breaker->limit(kind)) + "); try again later");
}

int Session::retry_target() {
  if (exchange_.group == nullptr || exchange_.target < 0 || !exchange_.request.replayable ||
      !exchange_.request.idempotent || !exchange_.request_complete || exchange_.final_head_done()) {
    return -1;
  }
  if (static_cast<uint32_t>(exchange_.tried_count) >= exchange_.group->config().retries ||
      exchange_.tried_count >= Exchange::kMaxTries - 1)
    return -1;
  if (exchange_.deadline_ms != 0 && worker_.loop().now_ms() >= exchange_.deadline_ms) return -1;
  if (upstream_out_.empty() && replay_.empty()) return -1;  // nothing kept to send again
  if (!exchange_.counts_in_retry_budget && !exchange_.group->retry_allowed()) {
    LOG_WARN("%s %s: retry budget of target group \"%s\" spent; not retrying", peer_ip_.c_str(),
             listener_->name.c_str(), exchange_.group->name().c_str());
    return -1;
  }
  exchange_.tried[exchange_.tried_count] = exchange_.target;
  return exchange_.group->pick_excluding(
      exchange_.pick,
      std::span<const int>(exchange_.tried, static_cast<size_t>(exchange_.tried_count) + 1));
}

void Session::retry_on(int other, const std::string& what) {
  // The head to send again: still queued if nothing went out, else the copy kept for replays.
  std::string head = upstream_out_.empty() ? replay_ : std::string(upstream_out_.view());
  exchange_.tried[exchange_.tried_count++] = exchange_.target;
  auto failed = static_cast<size_t>(exchange_.target);
  exchange_.group->record_outcome(failed, /*failed=*/true);
  exchange_.group->target_stats(failed).failures.add();
  exchange_.group->stats().retries.add();
  LOG_INFO("%s %s: %s; retrying on %s", peer_ip_.c_str(), listener_->name.c_str(), what.c_str(),
           exchange_.group->target_text(static_cast<size_t>(other)).c_str());
  if (exchange_.upstream) exchange_.upstream->pool()->discard(std::move(exchange_.upstream));
  upstream_timer_.cancel();
  exchange_.group->request_finished(failed);
  exchange_.target = other;
  exchange_.group->request_started(static_cast<size_t>(exchange_.target));
  exchange_.try_us = core::monotonic_us();
  if (!exchange_.counts_in_retry_budget) {
    exchange_.counts_in_retry_budget = true;
    exchange_.group->retry_started();
  }
  upstream_out_.consume(upstream_out_.size());
  upstream_out_.append(head);
  replay_ = std::move(head);
  exchange_.replayed_stale =
      false;  // the stale-connection replay is allowed again on the new target
  connect_upstream(/*fresh=*/false);
}

bool Session::retry_elsewhere(const std::string& what) {
  int other = retry_target();
  if (other < 0) return false;
  retry_on(other, what);
  return true;
}

bool Session::retries_status(int status) const {
  const auto& statuses = exchange_.group->config().retry_on_status;
  return std::find(statuses.begin(), statuses.end(), status) != statuses.end();
}

int64_t Session::try_budget_ms(int64_t per_try) const {
  if (exchange_.deadline_ms == 0) return per_try;
  return std::clamp<int64_t>(exchange_.deadline_ms - worker_.loop().now_ms(), 1, per_try);
}

bool Session::process_response_bytes() {
  if (phase_ != Phase::kExchange || !exchange_.upstream ||
      exchange_.response == Exchange::Response::kComplete)
    return false;
  bool progress = false;
  while (!upstream_in_.empty() && phase_ == Phase::kExchange &&
         exchange_.response != Exchange::Response::kComplete) {
    size_t feed;
    if (!exchange_.final_head_done()) {
      http::ScanStatus status = response_scanner_.scan(upstream_in_.view());
      if (status == http::ScanStatus::kNeedMore) break;
      if (status != http::ScanStatus::kComplete) {
        fail_local(502, "target " +
                            exchange_.group->target_text(static_cast<size_t>(exchange_.target)) +
                            " sent an invalid response: " + scan_error_text(status));
        return true;
      }
      size_t head = response_scanner_.head_length();
      feed = head + std::min(upstream_in_.size() - head, client_budget());
    } else {
      feed = std::min(upstream_in_.size(), client_budget());
      if (feed == 0) break;
    }
    response_parser_.set_request_was_head(exchange_.request.head_method);
    http::MessageParser::Result r = response_parser_.execute(upstream_in_.data(), feed);
    if (phase_ != Phase::kExchange) return true;
    if (r.status == http::MessageParser::Status::kError || !exchange_.protocol_error.empty()) {
      std::string reason = !exchange_.protocol_error.empty() ? exchange_.protocol_error
                                                             : response_parser_.error_reason();
      fail_local(502, "target " +
                          exchange_.group->target_text(static_cast<size_t>(exchange_.target)) +
                          " sent an invalid response: " + reason);
      return true;
    }
    upstream_in_.consume(r.consumed);
    progress = true;
    if (exchange_.status_retry_target >= 0) {
      retry_after_status();
      return true;
    }
    if (r.status == http::MessageParser::Status::kMessageComplete) {
      if (exchange_.response == Exchange::Response::kSwitched) {
        start_tunnel();
        return true;
      }
      response_parser_.next_message();
      if (exchange_.response == Exchange::Response::kInterim) {
        // A 1xx (100 Continue, 103 Early Hints): the final response follows.
        exchange_.response = Exchange::Response::kAwaiting;
        response_scanner_.reset();
        continue;
      }
      on_response_complete();
    }
  }
  if (exchange_.upstream_eof && phase_ == Phase::kExchange &&
      exchange_.response != Exchange::Response::kComplete &&
      (upstream_in_.empty() || !exchange_.final_head_done())) {
    handle_upstream_eof();
    progress = true;
  }
  return progress;
}

void Session::retry_after_status() {
  int other = exchange_.status_retry_target;
  int status = exchange_.status_retry_status;
  exchange_.status_retry_target = -1;
  // The dropped response's body (if any) is never read: the connection goes, not reused.
  response_parser_.next_message();
  response_scanner_.reset();
  upstream_in_.consume(upstream_in_.size());
  exchange_.upstream_reusable = false;
  retry_on(other, "target " + exchange_.group->target_text(static_cast<size_t>(exchange_.target)) +
                      " answered " + std::to_string(status));
}

void Session::handle_upstream_eof() {
  if (!exchange_.final_head_done()) {
    std::string why = exchange_.upstream ? exchange_.upstream->failure() : std::string();
    upstream_failed(
        "target " + exchange_.group->target_text(static_cast<size_t>(exchange_.target)) +
        (why.empty() ? " closed the connection without a complete response" : ": " + why));
    return;
  }
  http::MessageParser::Result r = response_parser_.finish();
  if (r.status == http::MessageParser::Status::kMessageComplete) {
    response_parser_.next_message();
    exchange_.upstream_reusable = false;
    on_response_complete();
    return;
  }
  // The body was cut short: the client must not mistake it for a whole one.
  LOG_WARN("%s: target %s closed the connection in the middle of a response",
           listener_->name.c_str(),
           exchange_.group->target_text(static_cast<size_t>(exchange_.target)).c_str());
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
  bool switching = head.status == 101;
  if (switching &&
      !(exchange_.request.websocket && http::iequals(head.find("upgrade"), "websocket"))) {
    exchange_.protocol_error = "switched protocols without being asked to";
    return 1;
  }
  if (head.upgrade && !switching) {
    exchange_.protocol_error = "sent Upgrade with status " + std::to_string(head.status);
    return 1;
  }
  if (head.status < 200 && !switching) {
    exchange_.response = Exchange::Response::kInterim;
    if (exchange_.request.http11 && exchange_.cache.step != CacheExchange::Step::kRefreshing)
      write_client_response_head(head, ClientFraming::kNone, true, true, client_out_);
    return 1;
  }
  if (retries_status(head.status)) {
    int other = retry_target();
    if (other >= 0) {
      // Not forwarded: process_response_bytes() drops it and sends the request to `other`.
      exchange_.status_retry_target = other;
      exchange_.status_retry_status = head.status;
      return 1;
    }
  }
  exchange_.response = Exchange::Response::kStreaming;
  auto target = static_cast<size_t>(exchange_.target);
  exchange_.group->record_outcome(target, head.status >= 500);
  int64_t waited_us = core::monotonic_us() - exchange_.try_us;
  if (exchange_.group->measures_time()) exchange_.group->record_response_time(target, waited_us);
  metrics::TargetStats& ts = exchange_.group->target_stats(target);
  ts.responses.count(head.status);
  ts.response_time.record(static_cast<uint64_t>(waited_us));
  exchange_.group->stats().responses.count(head.status);
  exchange_.group->stats().response_time.record(static_cast<uint64_t>(waited_us));
  exchange_.upstream_reusable = head.keep_alive;
  if (exchange_.cache.rule != nullptr && cache_answers_response(head)) {
    // The store answered; the target's body (if any) is read and dropped.
    return exchange_.request.head_method || head.status == 204 || head.status == 304 ? 1 : 0;
  }
  count_client_status(head.status);
  if (access_log_) log_response_head(head.status);
  if (switching) {
    // The target accepted the WebSocket handshake: the 101 goes to the client (Connection
    // and Upgrade restated, being hop-by-hop), and then the bytes that follow, both ways.
    exchange_.response = Exchange::Response::kSwitched;
    write_client_response_head(head, ClientFraming::kNone, true, true, client_out_,
                               "Connection: upgrade\r\nUpgrade: websocket\r\n");
    return 1;
  }
  bool no_body = exchange_.request.head_method || head.status == 204 || head.status == 304;
  CompressionDecision coding = no_body ? CompressionDecision::kNone : start_compression(head);
  bool compressing = coding == CompressionDecision::kCoded;
  // An HTTP/2 stream's body needs no framing: its end is the Session's graceful close. A
  // compressed body's length is known only at its end.
  if (compressing) {
    exchange_.framing = port_ == nullptr ? ClientFraming::kChunked : ClientFraming::kUntilClose;
  } else {
    exchange_.framing =
        choose_client_framing(head, no_body, exchange_.request.http11 && port_ == nullptr);
  }
  exchange_.upstream_reusable = head.keep_alive;
  if (exchange_.framing == ClientFraming::kUntilClose || worker_.draining())
    exchange_.keep_alive = false;
  if (!exchange_.request_complete)
    exchange_.keep_alive = false;  // early response: rest of request unread
  write_client_response_head(
      head, exchange_.framing, exchange_.request.http11, exchange_.keep_alive, client_out_,
      sticky_cookie_line(head) + exchange_.group_cookie_line +
          (coding == CompressionDecision::kVaryOnly ? "Vary: Accept-Encoding\r\n" : "") +
          cache_status_line(),
      listener_->tls.hsts_line, response_policy(),
      compressing ? compress::coding_name(*exchange_.coding) : std::string_view());
  if (exchange_.cache.rule != nullptr)
    start_capture(head, compressing, coding == CompressionDecision::kVaryOnly);
  return no_body ? 1 : 0;
}

void Session::on_response_body(const char* data, size_t n) {
  if (exchange_.cache.step == CacheExchange::Step::kAnswered) return;  // the store answered
  if (exchange_.cache.step == CacheExchange::Step::kRefreshing) {
    if (exchange_.cache.capture) capture_body(data, n);  // for the store only
    return;
  }
  if (!exchange_.encoder) {
    append_response_body(data, n);
  } else if (compress_body(data, n, false)) {
    append_response_body(compressed_.data(), compressed_.size());
  } else {
    close();
  }
}

void Session::append_response_body(const char* data, size_t n) {
  if (n == 0) return;  // an empty chunk would end a chunked body
  if (exchange_.cache.capture) capture_body(data, n);
  if (exchange_.framing == ClientFraming::kChunked)
    http::append_chunk(client_out_, data, n);
  else
    client_out_.append(data, n);
}

void Session::on_response_complete() {
  if (exchange_.encoder) {
    if (!compress_body(nullptr, 0, true)) {
      close();
      return;
    }
    exchange_.encoder.reset();
    append_response_body(compressed_.data(), compressed_.size());
  }
  if (exchange_.cache.capture) finish_capture();
  if (exchange_.framing == ClientFraming::kChunked) client_out_.append(http::kLastChunk);
  exchange_.response = Exchange::Response::kComplete;
  if (!exchange_.request_complete) {
    // The target answered before the whole request arrived: the rest of the request
    // cannot be told apart from a next request, so both connections end here.
    exchange_.upstream_reusable = false;
    finish_exchange();
  }
}

void Session::finish_exchange() {
  upstream_timer_.cancel();
  if (exchange_.upstream) {
    bool reusable = exchange_.upstream_reusable && upstream_in_.empty() && upstream_out_.empty() &&
                    exchange_.request_complete && !exchange_.upstream_eof &&
                    !exchange_.upstream->hangup;
    TargetPool* pool = exchange_.upstream->pool();
    if (reusable)
      pool->release(std::move(exchange_.upstream));
    else
      pool->discard(std::move(exchange_.upstream));
  }
  if (exchange_.group != nullptr && exchange_.target >= 0)
    exchange_.group->request_finished(static_cast<size_t>(exchange_.target));
  release_group_slots();
  record_total_time();
  if (exchange_.log.pending) log_exchange();
  bool keep_alive =
      exchange_.keep_alive && exchange_.request_complete && !worker_.draining() && !client_eof_;
  // The exchange lets go of its group before the connection moves to the current snapshot,
  // which may free that group.
  reset_exchange();
  if (!keep_alive || !adopt_current_snapshot()) {
    start_closing();
    return;
  }
  phase_ = Phase::kReadingHead;
  request_parser_.next_message();
  request_scanner_.reset();
  if (client_in_.empty()) {
    worker_.loop().timers().arm(client_timer_, listener_->idle_timeout_ms, worker_.loop().now_ms());
    head_timer_armed_ = false;
  }
}

void Session::reset_exchange() {
  stop_waiting();
  exchange_ = {};
  replay_.clear();  // the connection's scratch copy: cleared, its memory kept
  response_scanner_.reset();
  upstream_in_.consume(upstream_in_.size());
  upstream_out_.consume(upstream_out_.size());
}

void Session::on_upstream_timer(void* self) {
  auto* s = static_cast<Session*>(self);
  if (s->phase_ == Phase::kExchange && s->exchange_.cache.step == CacheExchange::Step::kWaiting) {
    s->resume_after_wait();  // lock_timeout passed
    s->drive();
    return;
  }
  if (s->phase_ == Phase::kExchange && s->exchange_.fault_delaying) {
    s->exchange_.fault_delaying = false;  // the injected delay is over
    s->connect_upstream(/*fresh=*/false);
    s->drive();
    return;
  }
  if (s->phase_ != Phase::kExchange || s->exchange_.group == nullptr) return;
  const std::string& target =
      s->exchange_.group->target_text(static_cast<size_t>(s->exchange_.target));
  if (s->exchange_.upstream && !s->exchange_.upstream->connected) {
    if (s->retry_elsewhere("target " + target + " did not accept the connection within " +
                           std::to_string(s->exchange_.group->config().connect_timeout_ms) +
                           "ms")) {
      s->drive();
      return;
    }
    s->fail_local(504, "target " + target + " did not accept the connection within " +
                           std::to_string(s->exchange_.group->config().connect_timeout_ms) + "ms");
  } else {
    const auto& g = s->exchange_.group->config();
    bool total_spent =
        s->exchange_.deadline_ms != 0 && s->worker_.loop().now_ms() >= s->exchange_.deadline_ms;
    std::string what = total_spent
                           ? "target group \"" + g.name + "\" did not respond within " +
                                 "total_timeout " + std::to_string(g.total_timeout_ms) + "ms (" +
                                 std::to_string(s->exchange_.tried_count + 1) + " tries)"
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
