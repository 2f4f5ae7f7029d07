// The response cache on a Session's request path (RFC 9111): lookups and answers from the
// store, request coalescing, revalidation, stale-if-error, and storing what targets send.
#include <cinttypes>
#include <cstdio>

#include "cache/conditional.h"
#include "cache/key_policy.h"
#include "cache/response_facts.h"
#include "cache/vary.h"
#include "core/clock.h"
#include "core/log.h"
#include "proxy/session.h"
#include "proxy/worker.h"

namespace ballast::proxy {

const char* cache_outcome_name(CacheExchange::Outcome outcome) {
  switch (outcome) {
    case CacheExchange::Outcome::kHit:
      return "HIT";
    case CacheExchange::Outcome::kMiss:
      return "MISS";
    case CacheExchange::Outcome::kStale:
      return "STALE";
    case CacheExchange::Outcome::kRevalidated:
      return "REVALIDATED";
    case CacheExchange::Outcome::kBypass:
      return "BYPASS";
  }
  return "BYPASS";
}

namespace {

// Bodies up to this size are copied after their head (one send); larger ones are sent from
// the store's memory. With make bench's 100 KiB hits, copying cost 15% of the CPU in the copy
// and 6% in page faults on the grown buffer.
constexpr size_t kCopiedBodyLimit = 16 * 1024;

// RFC 9111 4.4: a successful unsafe request invalidates what is stored for its URI.
bool is_unsafe(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "DELETE" || method == "PATCH";
}

// The request fields of a head's text (request line first), as views into it.
void fields_of(std::string_view head, std::vector<http::Header>& out) {
  size_t line_end = head.find("\r\n");
  cache::parse_field_lines(
      line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2), out);
}

// Whether `object` answers a request with these fields: the same selection by its Vary.
bool same_variant(const cache::Object& object, const std::vector<http::Header>& fields) {
  if (object.vary().empty()) return object.variant().empty();
  std::vector<std::string_view> lines(object.vary().begin(), object.vary().end());
  std::optional<std::string> selection = cache::vary_selection(lines, fields);
  return selection && *selection == object.variant();
}

// Replays a saved request head through a parser, for a request that waited.
struct ReplaySink final : http::MessageSink {
  std::function<void(http::MessageHead&)> on_head_fn;
  int on_head(http::MessageHead& head) override {
    on_head_fn(head);
    return 1;
  }
  void on_body(const char*, size_t) override {}
  void on_message_complete() override {}
};

}  // namespace

const config::ResponseHeadersConfig* Session::response_policy() const {
  if (exchange_.rule < 0) return nullptr;
  const config::ResponseHeadersConfig& h =
      listener_->rules[static_cast<size_t>(exchange_.rule)].response_headers;
  return h.empty() ? nullptr : &h;
}

std::string Session::cache_status_line() const {
  if (exchange_.cache.rule == nullptr) return {};
  return std::string("X-Cache: ") + cache_outcome_name(exchange_.cache.outcome) + "\r\n";
}

bool Session::consult_cache(const config::RuleConfig& rule, const http::MessageHead& head) {
  CacheExchange& c = exchange_.cache;
  c.rule = &rule.cache;
  c.step = CacheExchange::Step::kForwarding;
  c.outcome = CacheExchange::Outcome::kBypass;
  cache::build_key(rule.cache.key, head.host, head.target, head.headers, cache_key_);
  bool get = head.method == "GET";
  if (!get && !head.is_head_request) {
    c.invalidates = is_unsafe(head.method);
    return false;
  }
  // A request with a body is not one a cache answers (nor is it usual for GET), and a
  // WebSocket handshake is the start of a tunnel.
  if (!exchange_.request.replayable || exchange_.request.websocket) return false;
  note_cache_conditions(head);
  c.get = get;
  c.outcome = CacheExchange::Outcome::kMiss;
  if (answer_from_store(head)) return true;
  if (c.request_cc.has(cache::Directive::kOnlyIfCached)) {
    // RFC 9111 5.2.1.7: nothing stored will do, and the client asked for nothing else.
    c.step = CacheExchange::Step::kAnswered;
    answer_here(GeneratedResponse{504, "text/plain; charset=utf-8",
                                  "504 Gateway Timeout: not in the cache (only-if-cached)\n", "",
                                  listener_->tls.hsts_line},
                head);
    return true;
  }
  if (!get) return false;  // a HEAD miss goes on, and stores nothing
  keep_request_head(head);
  if (c.request_cc.has(cache::Directive::kNoStore)) return false;
  return join_or_wait_for_fill(head);
}

void Session::note_cache_conditions(const http::MessageHead& head) {
  CacheExchange& c = exchange_.cache;
  for (const auto& h : head.headers) {
    if (http::iequals(h.name, "cache-control")) {
      c.request_cc.add(h.value);
    } else if (http::iequals(h.name, "authorization")) {
      c.request_has_authorization = true;
    } else if (http::iequals(h.name, "if-none-match")) {
      c.if_none_match = h.value;
    } else if (http::iequals(h.name, "if-modified-since")) {
      c.if_modified_since = h.value;
    } else if (http::iequals(h.name, "range")) {
      c.range = h.value;
    } else if (http::iequals(h.name, "if-range")) {
      c.if_range = h.value;
    }
  }
}

void Session::keep_request_head(const http::MessageHead& head) {
  // Vary names request fields only once the response comes, a request that waits is sent
  // on later, and a stored response needs its URL: the head is copied while it is still in
  // the client's buffer (once: a request resumed after waiting is parsed from this copy).
  if (exchange_.cache.head_kept) return;
  cache_request_head_.assign(client_in_.data(), request_scanner_.head_length());
  cache::build_url(head.host, head.target, cache_url_);
  exchange_.cache.head_kept = true;
}

cache::ObjectPtr Session::look_up(const http::MessageHead& head) {
  return snapshot_->config().cache_store->find(
      cache_key_, [&](const cache::Object& o) { return same_variant(o, head.headers); });
}

bool Session::answered_by_fill_that_just_ended(const http::MessageHead& head,
                                               const cache::ObjectPtr& looked_up) {
  CacheExchange& c = exchange_.cache;
  cache::ObjectPtr now = look_up(head);
  if (!now || now == looked_up ||
      cache::decide(now->freshness(), c.request_cc, c.rule->ttl, core::unix_seconds()) !=
          cache::Use::kFresh) {
    return false;
  }
  c.lease.reset();
  serve_stored(now, CacheExchange::Outcome::kHit, false);
  return true;
}

bool Session::answer_from_store(const http::MessageHead& head) {
  CacheExchange& c = exchange_.cache;
  cache::ObjectPtr found = look_up(head);
  if (!found) return false;
  switch (cache::decide(found->freshness(), c.request_cc, c.rule->ttl, core::unix_seconds())) {
    case cache::Use::kFresh:
      serve_stored(found, CacheExchange::Outcome::kHit, false);
      return true;
    case cache::Use::kStaleAllowed:
      serve_stored(found, CacheExchange::Outcome::kStale, false);
      return true;
    case cache::Use::kStaleWhileRevalidate:
      answer_stale_and_refresh(std::move(found), head);
      return true;
    case cache::Use::kRevalidate:
      break;
  }
  // Stale: asked again with its validators when it has some (a 304 keeps it), and kept
  // for stale-if-error either way.
  c.stored = std::move(found);
  if (!c.stored->etag().empty() || !c.stored->last_modified().empty())
    c.step = CacheExchange::Step::kRevalidating;
  return false;
}

void Session::answer_stale_and_refresh(cache::ObjectPtr stale, const http::MessageHead& head) {
  CacheExchange& c = exchange_.cache;
  const std::shared_ptr<cache::Store>& store = snapshot_->config().cache_store;
  // One refresh per key at a time; the other requests meanwhile just get the stale answer.
  if (!c.get || store->join_fill(cache_key_, [] {}) != cache::Store::FillRole::kLeader) {
    serve_stored(stale, CacheExchange::Outcome::kStale, false);
    return;
  }
  c.lease = std::make_unique<FillLease>(store, cache_key_);
  if (answered_by_fill_that_just_ended(head, stale)) return;
  keep_request_head(head);
  serve_stored(stale, CacheExchange::Outcome::kStale, true);
  c.step = CacheExchange::Step::kRefreshing;
  c.stored = std::move(stale);
  forward_request(listener_->rules[static_cast<size_t>(exchange_.rule)], head);
}

void Session::refresh_from_response(const http::MessageHead& response) {
  CacheExchange& c = exchange_.cache;
  if (response.status == 304 && c.stored) {
    snapshot_->config().cache_store->insert(
        cache::Object::updated_by(*c.stored, response, c.request_time, core::unix_seconds()));
    c.lease.reset();
    return;
  }
  // A new response is stored as it comes, unless the rule compresses: the stored variants
  // are coded ones then, and this body is not coded.
  if (!listener_->rules[static_cast<size_t>(exchange_.rule)].compression.enabled)
    start_capture(response, false, false);
  if (!c.capture) c.lease.reset();
}

bool Session::join_or_wait_for_fill(const http::MessageHead& head) {
  CacheExchange& c = exchange_.cache;
  const std::shared_ptr<cache::Store>& store = snapshot_->config().cache_store;
  auto wait = std::make_shared<CacheWait>();
  wait->session = this;
  core::EventLoop* loop = &worker_.loop();
  cache::Store::FillRole role = store->join_fill(cache_key_, [loop, wait] {
    loop->post([wait] {
      if (wait->session != nullptr) wait->session->on_fill_done();
    });
  });
  if (role == cache::Store::FillRole::kLeader) {
    c.lease = std::make_unique<FillLease>(store, cache_key_);
    return answered_by_fill_that_just_ended(head, c.stored);
  }
  c.step = CacheExchange::Step::kWaiting;
  c.wait = std::move(wait);
  stats_->rule(exchange_.rule).cache_coalesced.add();
  worker_.loop().timers().arm(upstream_timer_, c.rule->lock_timeout_ms, worker_.loop().now_ms());
  return true;
}

void Session::stop_waiting() {
  CacheExchange& c = exchange_.cache;
  if (c.wait) c.wait->session = nullptr;
  c.wait.reset();
  if (c.step == CacheExchange::Step::kWaiting) {
    c.step = CacheExchange::Step::kForwarding;
    upstream_timer_.cancel();
  }
}

void Session::on_fill_done() {
  if (phase_ != Phase::kExchange || exchange_.cache.step != CacheExchange::Step::kWaiting) return;
  resume_after_wait();
  drive();
}

void Session::resume_after_wait() {
  stop_waiting();
  // The head was parsed once already; it is parsed again from its copy because the views
  // of the first parse pointed into the client's buffer, which has moved on.
  ReplaySink sink;
  sink.on_head_fn = [this](http::MessageHead& head) { continue_after_wait(head); };
  http::MessageParser parser(http::MessageParser::Kind::kRequest, http::HeadLimits{}, &sink);
  std::string head = cache_request_head_;  // the parse reads it; answers may reuse the member
  http::MessageParser::Result r = parser.execute(head.data(), head.size());
  if (r.status == http::MessageParser::Status::kError)
    fail_local(500, "the cache could not resume a request that waited: " + parser.error_reason());
}

void Session::continue_after_wait(const http::MessageHead& head) {
  if (exchange_.rule < 0) return;
  const config::RuleConfig& rule = listener_->rules[static_cast<size_t>(exchange_.rule)];
  exchange_.cache.outcome = CacheExchange::Outcome::kMiss;
  if (answer_from_store(head)) return;
  // The fetch stored nothing this request can use (another variant, an answer that may not
  // be stored, a failure) or took too long: this request goes to the target itself.
  forward_request(rule, head);
}

void Session::serve_stored(const cache::ObjectPtr& stored, CacheExchange::Outcome outcome,
                           bool instead_of_target) {
  const cache::Object& object = *stored;
  CacheExchange& c = exchange_.cache;
  c.step = CacheExchange::Step::kAnswered;
  c.outcome = outcome;
  object.count_hit();
  const std::string& body = object.body();
  int status = object.head().status;
  uint64_t first = 0;
  uint64_t length = body.size();
  char extra[160];
  int age = static_cast<int>(
      std::min<int64_t>(cache::current_age(object.freshness(), core::unix_seconds()), INT32_MAX));
  int n = snprintf(extra, sizeof(extra), "Age: %d\r\nX-Cache: %s\r\n", age,
                   cache_outcome_name(outcome));
  if (status == 200 && cache::not_modified(c.if_none_match, c.if_modified_since, object.etag(),
                                           object.freshness().last_modified)) {
    status = 304;
    length = 0;
  } else if (status == 200 && !c.range.empty()) {
    cache::ByteRange range;
    switch (cache::choose_range(c.range, c.if_range, object.etag(), object.last_modified(),
                                body.size(), &range)) {
      case cache::RangeAnswer::kWhole:
        break;
      case cache::RangeAnswer::kPart:
        status = 206;
        first = range.first;
        length = range.last - range.first + 1;
        n += snprintf(extra + n, sizeof(extra) - static_cast<size_t>(n),
                      "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%zu\r\n", range.first,
                      range.last, body.size());
        break;
      case cache::RangeAnswer::kUnsatisfiable:
        status = 416;
        length = 0;
        n += snprintf(extra + n, sizeof(extra) - static_cast<size_t>(n),
                      "Content-Range: bytes */%zu\r\n", body.size());
        break;
    }
  }
  if (!instead_of_target) exchange_.answerer = Exchange::Answerer::kBallast;
  bool keep_alive = exchange_.keep_alive && !worker_.draining();
  write_stored_response_head(object.head(), status, length, exchange_.request.http11, keep_alive,
                             client_out_, std::string_view(extra, static_cast<size_t>(n)),
                             listener_->tls.hsts_line, response_policy());
  if (!exchange_.request.head_method && length > 0) {
    if (length < kCopiedBodyLimit) {
      client_out_.append(body.data() + first, length);
    } else {
      stored_body_ = stored;
      stored_body_at_ = first;
      stored_body_end_ = first + length;
    }
    stats_->rule(exchange_.rule).cache_bytes_served.add(length);
  }
  stats_->rule(exchange_.rule).cache_outcomes[static_cast<size_t>(outcome)].add();
  if (instead_of_target) {
    count_client_status(status);
    if (access_log_) log_response_head(status);
  } else {
    count_response(status);
    exchange_.response = Exchange::Response::kComplete;
  }
}

bool Session::cache_answers_response(const http::MessageHead& response) {
  CacheExchange& c = exchange_.cache;
  const std::shared_ptr<cache::Store>& store = snapshot_->config().cache_store;
  if (c.invalidates && response.status < 400) store->remove(cache_key_);
  if (c.step == CacheExchange::Step::kRefreshing) {
    refresh_from_response(response);
    return true;  // the client has its answer already
  }
  if (!c.stored) {
    stats_->rule(exchange_.rule).cache_outcomes[static_cast<size_t>(c.outcome)].add();
    return false;
  }
  int64_t now = core::unix_seconds();
  if (c.step == CacheExchange::Step::kRevalidating && response.status == 304) {
    // RFC 9111 4.3.4: the stored response, with the 304's fields, is fresh again.
    cache::ObjectPtr fresh = cache::Object::updated_by(*c.stored, response, c.request_time, now);
    store->insert(fresh);
    serve_stored(fresh, CacheExchange::Outcome::kRevalidated, true);
    return true;
  }
  if (response.status >= 500 &&
      cache::may_serve_on_error(c.stored->freshness(), c.request_cc, c.rule->ttl, now)) {
    serve_stored(c.stored, CacheExchange::Outcome::kStale, true);
    return true;
  }
  stats_->rule(exchange_.rule).cache_outcomes[static_cast<size_t>(c.outcome)].add();
  return false;
}

bool Session::serve_stale_on_error() {
  CacheExchange& c = exchange_.cache;
  if (!c.stored || c.rule == nullptr) return false;
  if (!cache::may_serve_on_error(c.stored->freshness(), c.request_cc, c.rule->ttl,
                                 core::unix_seconds()))
    return false;
  serve_stored(c.stored, CacheExchange::Outcome::kStale, false);
  return true;
}

void Session::start_capture(const http::MessageHead& response, bool coded,
                            bool vary_accept_encoding) {
  CacheExchange& c = exchange_.cache;
  bool fetching =
      c.outcome == CacheExchange::Outcome::kMiss || c.step == CacheExchange::Step::kRefreshing;
  if (!c.get || !fetching || c.request_cc.has(cache::Directive::kNoStore)) {
    c.lease.reset();
    return;
  }
  int64_t now = core::unix_seconds();
  cache::StoredResponse facts = cache::stored_response_of(response, c.request_time, now);
  bool sets_cookie = false;
  std::vector<std::string> vary;
  for (const auto& h : response.headers) {
    if (http::iequals(h.name, "set-cookie")) sets_cookie = true;
    if (http::iequals(h.name, "vary")) vary.emplace_back(h.value);
  }
  if (coded || vary_accept_encoding) vary.emplace_back("Accept-Encoding");
  cache::StoreQuestion q{"GET", &c.request_cc, c.request_has_authorization, &facts, sets_cookie};
  bool too_large = response.has_content_length && response.content_length > c.rule->max_object_size;
  fields_of(cache_request_head_, cache_request_fields_);
  std::vector<std::string_view> vary_lines(vary.begin(), vary.end());
  std::optional<std::string> variant = cache::vary_selection(vary_lines, cache_request_fields_);
  if (cache::may_store(q, c.rule->ttl) != cache::Storable::kYes || too_large || !variant) {
    c.lease.reset();  // the requests waiting for this one go on their own
    return;
  }
  auto parts = std::make_unique<cache::Object::Parts>();
  parts->key = cache_key_;
  parts->url = cache_url_;
  parts->vary = std::move(vary);
  parts->variant = std::move(*variant);
  parts->tags = cache::tags_of(response);
  parts->status = response.status;
  parts->reason = std::string(response.reason);
  core::Buffer fields(&worker_.buffers());
  write_storable_fields(response, coded ? compress::coding_name(*exchange_.coding) : "",
                        vary_accept_encoding, fields);
  parts->fields.assign(fields.data(), fields.size());
  parts->freshness = facts;
  parts->owner = c.rule->counts;
  if (response.has_content_length) parts->body.reserve(response.content_length);
  c.capture = std::move(parts);
}

void Session::capture_body(const char* data, size_t n) {
  CacheExchange& c = exchange_.cache;
  if (c.capture->body.size() + n > c.rule->max_object_size) {
    c.capture.reset();  // larger than the rule stores: it streams through only
    c.lease.reset();
    return;
  }
  c.capture->body.append(data, n);
}

void Session::finish_capture() {
  CacheExchange& c = exchange_.cache;
  snapshot_->config().cache_store->insert(cache::Object::make(std::move(*c.capture)));
  c.capture.reset();
  c.lease.reset();  // wakes the requests that waited for this fetch
}

}  // namespace ballast::proxy
