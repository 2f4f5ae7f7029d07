#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "compress/encoder.h"
#include "lb/balancer.h"
#include "proxy/cache_exchange.h"
#include "proxy/circuit_breaker.h"
#include "proxy/forwarding.h"
#include "proxy/upstream.h"

namespace ballast::proxy {

class TargetGroupRuntime;

// What the access log notes about an exchange as it goes (filled only when the listener
// logs).
struct ExchangeLog {
  bool pending = false;
  int64_t unix_ms = 0;
  int64_t head_us = 0;
  int64_t sent_us = 0;      // request forwarded (0: never)
  int64_t response_us = 0;  // response head from the target (0: none)
  std::string method, uri, user_agent, request_id, target, target_group;
  const char* protocol = "HTTP/1.1";
  int status = 0;
  int target_status = 0;
  int rule = -1;
  uint64_t in_mark = 0;
  uint64_t out_mark = 0;
};

// One request on a client connection and its response: everything a new request replaces
// whole (`exchange_ = {}`). The connection's own state (sockets, buffers, parsers, timers,
// its configuration snapshot) stays in the Session. HTTP/2 streams, cache lookups and TLS
// facts about a request belong here too, so that a connection does not grow with them.
struct Exchange {
  // Where the response stands. It moves forward only, except that an interim (1xx)
  // response, or one dropped for a retry, is followed by waiting for the final one again.
  enum class Response {
    kAwaiting,   // no final response head yet
    kInterim,    // a 1xx head is being passed on
    kStreaming,  // the final head went to the client; its body streams
    kComplete,   // the whole response is queued for the client (or ballast answered)
    kSwitched,   // a 101 went to the client: the connection becomes a tunnel
  };
  // Who answers the request.
  enum class Answerer { kTarget, kBallast };

  // The request, as its head said.
  struct Request {
    bool http11 = true;
    bool head_method = false;
    bool chunked = false;
    bool replayable = false;  // no body: can be sent again on a fresh connection
    bool idempotent = false;  // or the rule allows retrying it anyway
    bool websocket = false;   // asks to upgrade to WebSocket (RFC 6455 4.1)
  } request;
  bool request_complete = false;
  Response response = Response::kAwaiting;
  Answerer answerer = Answerer::kTarget;
  // The client asked to keep the connection, and nothing since says the answer must close it.
  bool keep_alive = true;

  int rule = -1;            // the matched rule's position in its listener (-1: none)
  int64_t head_us = 0;      // when the request head arrived (0: total time already recorded)
  int64_t try_us = 0;       // when the current try began: for response times
  int64_t deadline_ms = 0;  // total_timeout's end (0: none)

  // The target group and target; the group belongs to the session's snapshot.
  TargetGroupRuntime* group = nullptr;
  int target = -1;
  lb::PickContext pick;
  bool sticky = false;            // the group has stickiness
  std::string group_cookie_line;  // Set-Cookie of group-level stickiness, or empty

  std::unique_ptr<UpstreamConnection> upstream;
  bool upstream_eof = false;
  bool upstream_reusable = false;
  std::string protocol_error;  // what the target sent that cannot be forwarded (empty: none)
  ClientFraming framing = ClientFraming::kNone;
  // The rule compresses and the client accepts this coding (from Accept-Encoding); and,
  // once the response qualified, its encoder.
  std::optional<compress::Coding> coding;
  std::unique_ptr<compress::Encoder> encoder;

  // Tries: a stale keep-alive connection's replay, retries on other targets.
  static constexpr int kMaxTries = 6;
  bool replayed_stale = false;          // the head was sent again after a stale connection
  bool counts_in_retry_budget = false;  // in the group's retry budget until the end
  int tried[kMaxTries] = {};
  int tried_count = 0;
  int status_retry_target = -1;  // set while a dropped response waits for its retry
  int status_retry_status = 0;

  // Circuit-breaker slots held, and the breaker they go back to.
  bool holds_request_slot = false;  // max_requests
  bool holds_pending_slot = false;  // max_pending_requests
  std::shared_ptr<CircuitBreaker> breaker;

  CacheExchange cache;
  // The rule's fault injection delays this request: it goes to its target when
  // upstream_timer_ fires.
  bool fault_delaying = false;
  ExchangeLog log;
  // The request body's rate (min_body_bytes_per_second), measured over a window that
  // restarts whenever ballast itself stopped reading (the target is slower than the client).
  uint64_t body_bytes = 0;           // received so far (max_request_body)
  int64_t body_window_start_ms = 0;  // 0: no body expected, or it is complete
  uint64_t body_window_bytes = 0;
  int64_t tunnel_activity_ms = 0;  // a tunnel's last bytes, either way (for idle_timeout)

  // The final response head went to the client (or ballast answered): from here on the
  // request cannot be tried again, and a failure can only close the connection.
  bool final_head_done() const {
    return response == Response::kStreaming || response == Response::kComplete ||
           response == Response::kSwitched;
  }
};

}  // namespace ballast::proxy
