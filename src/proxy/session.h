#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "config/config.h"
#include "core/buffer.h"
#include "core/event_loop.h"
#include "core/free_list.h"
#include "core/io_result.h"
#include "core/socket_address.h"
#include "core/timer_queue.h"
#include "http/head_scanner.h"
#include "http/message_parser.h"
#include "metrics/proxy_stats.h"
#include "proxy/access_log.h"
#include "proxy/client_connection.h"
#include "proxy/config_snapshot.h"
#include "proxy/connection_limiter.h"
#include "proxy/exchange.h"
#include "proxy/forwarding.h"
#include "proxy/local_response.h"
#include "proxy/stream_port.h"
#include "proxy/upstream.h"
#include "tls/tls_stream.h"

namespace ballast::proxy {

class Worker;
class TargetGroupRuntime;

// One client connection and the requests it carries, one at a time, in order.
//
// All work happens in drive(), which moves bytes as far as they can go: client socket ->
// request parser -> upstream buffer -> target, and back. Readiness is tracked per socket
// (edge-triggered epoll), so drive() issues no syscall that is known to fail. Bodies
// stream through fixed-size buffers: when the receiving side is slow, the sending side
// is simply not read, and TCP flow control pushes back on the peer.
class Session final : public ClientConnection, public UpstreamOwner {
 public:
  // Sessions come and go with every HTTP/2 stream: their memory is recycled per thread.
  static void* operator new(size_t size) {
    return size == sizeof(Session) ? core::FreeList<sizeof(Session)>::take() : ::operator new(size);
  }
  static void operator delete(void* p, size_t size) {
    if (size == sizeof(Session)) {
      core::FreeList<sizeof(Session)>::give(p);
    } else {
      ::operator delete(p);
    }
  }
  // `listener` belongs to `snapshot`. `access_log`: where this listener's requests are
  // logged on this worker (null: off).
  Session(Worker& worker, std::shared_ptr<const ConfigSnapshot> snapshot,
          const config::ListenerConfig& listener, std::shared_ptr<metrics::ListenerStats> stats,
          std::shared_ptr<AccessLogWriter> access_log, int fd, const core::SocketAddress& peer,
          ConnectionLimiter::Admission admission);
  // A Session that serves one HTTP/2 stream (see StreamPort): `peer`, `secure` and
  // `client_subject` are its connection's.
  Session(Worker& worker, std::shared_ptr<const ConfigSnapshot> snapshot,
          const config::ListenerConfig& listener, std::shared_ptr<metrics::ListenerStats> stats,
          std::shared_ptr<AccessLogWriter> access_log, StreamPort& port,
          const core::SocketAddress& peer, std::string peer_ip, bool secure,
          std::string client_subject);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start();
  void on_io(uint32_t events) override;
  void on_upstream_io(uint32_t events) override;
  // Graceful shutdown: an idle connection closes now, a busy one after its response.
  void begin_drain() override;
  // The worker has a new snapshot. An idle connection moves to it at once (or closes, when
  // its listener is gone), so the old one's removed groups can go; a busy one finishes its
  // exchange under the snapshot it started with.
  void on_reload() override;
  const config::ListenerConfig& listener() const { return *listener_; }
  void abort() override { close(); }

 private:
  // kProxyHeader: a trusted proxy's PROXY protocol header comes first (then kReadingHead).
  // kTunnel: a WebSocket upgrade was accepted; bytes pass both ways as they are.
  enum class Phase {
    kProxyHeader,
    kReadingHead,
    kExchange,
    kTunnel,
    kClosing,
    kLingering,
    kClosed
  };

  // Adapters: the request and response parsers report to the session through these.
  struct RequestSink final : http::MessageSink {
    Session* s;
    int on_head(http::MessageHead& head) override;
    void on_body(const char* data, size_t n) override;
    void on_message_complete() override;
  };
  struct ResponseSink final : http::MessageSink {
    Session* s;
    int on_head(http::MessageHead& head) override;
    void on_body(const char* data, size_t n) override;
    void on_message_complete() override;
  };

  // What both constructors share.
  Session(Worker& worker, std::shared_ptr<const ConfigSnapshot> snapshot,
          const config::ListenerConfig& listener, std::shared_ptr<metrics::ListenerStats> stats,
          std::shared_ptr<AccessLogWriter> access_log, const core::SocketAddress& peer,
          std::string peer_ip);

  void drive();
  // HTTP/2 (session_http2.cc): the client chose it by ALPN, or sent its preface on a plain
  // listener. The connection becomes an H2Connection and this Session goes.
  bool wants_http2();
  void hand_over_to_http2();
  // The client connection's bytes, through TLS on a TLS listener (session_tls.cc).
  core::IoResult receive_from_client(char* buf, size_t len);
  core::IoResult send_to_client(const char* buf, size_t len);
  void note_tls_progress();
  bool read_client();
  bool flush_client();
  void queue_resume();
  bool read_upstream();
  bool flush_upstream();
  bool process_request_bytes();
  // The PROXY protocol header of a trusted proxy: the real client replaces the peer.
  bool process_proxy_header();
  bool process_response_bytes();
  void handle_client_eof();
  void handle_upstream_eof();

  // Exchange steps (session_exchange.cc).
  void on_request_head(http::MessageHead& head);
  void on_request_body(const char* data, size_t n);
  int on_response_head(http::MessageHead& head);
  void on_response_body(const char* data, size_t n);
  void on_response_complete();
  bool connect_upstream(bool fresh);
  void on_upstream_connected();
  void upstream_failed(const std::string& what);
  // Sends the request to another target after a connection failure, when the request
  // and the retry budget allow; false when it cannot.
  bool retry_elsewhere(const std::string& what);
  // The target a retry would go to, or -1 when the request, its group's settings or the
  // retry budget rule one out.
  int retry_target();
  void retry_on(int other, const std::string& what);
  bool retries_status(int status) const;
  // A response whose status is in retry_on_status was dropped: send the request again.
  void retry_after_status();
  // The time a try may take: `per_try`, or less when total_timeout ends sooner.
  int64_t try_budget_ms(int64_t per_try) const;
  // The exchange is over: leave the retry budget, give back the circuit-breaker slots.
  void release_group_slots();
  // Stickiness: the target a request's cookie pins it to (or -1), and the Set-Cookie line
  // the response carries to pin the client (or empty).
  int sticky_target(const http::MessageHead& request);
  std::string sticky_cookie_line(const http::MessageHead& response) const;
  // The target group a forward rule sends this request to (weighted, maybe sticky).
  size_t choose_forward(const config::RuleConfig& rule, const http::MessageHead& head);
  // An ACME CA fetching an HTTP-01 challenge (RFC 8555 8.3) is answered here, before
  // any rule; false when the request is not one ballast has an answer for.
  bool answer_acme_challenge(const http::MessageHead& head);
  // Writes a response ballast makes itself (a rule's fixed response or redirect, an ACME
  // challenge) as the exchange's answer.
  void answer_here(const GeneratedResponse& response, const http::MessageHead& head);
  void answer_from_rule(const config::RuleConfig& rule, const http::MessageHead& head);
  void release_pending_slot();
  void reject_by_breaker(CircuitBreaker::Kind kind);
  void finish_exchange();
  // Slow and greedy clients (session_limits.cc). False when the request was refused.
  bool admit_request_body(const http::MessageHead& head);
  // Compression (session_compression.cc): the coding the client accepts; whether the
  // response qualifies (kVaryOnly: it does, but this client takes no coding) and, when it is
  // coded, its encoder; and a piece of body (or, `last`, the end) coded into compressed_.
  void note_accepted_coding(const config::RuleConfig& rule, const http::MessageHead& head);
  enum class CompressionDecision { kNone, kVaryOnly, kCoded };
  CompressionDecision start_compression(const http::MessageHead& response);
  bool compress_body(const char* data, size_t n, bool last);
  // Response body bytes, as sent (coded already, when they are), in the client's framing.
  void append_response_body(const char* data, size_t n);
  // The response cache (session_cache.cc). consult_cache: true when the request was
  // answered from the store, or waits for another request's fetch of its key.
  bool consult_cache(const config::RuleConfig& rule, const http::MessageHead& head);
  void note_cache_conditions(const http::MessageHead& head);
  void keep_request_head(const http::MessageHead& head);
  bool answer_from_store(const http::MessageHead& head);
  // stale-while-revalidate: answers with `stale` now and, unless another request refreshes
  // the key already, goes on to the target in the background.
  void answer_stale_and_refresh(cache::ObjectPtr stale, const http::MessageHead& head);
  void refresh_from_response(const http::MessageHead& response);
  // Becomes the key's one fetch, or waits for the fetch in progress (true).
  bool join_or_wait_for_fill(const http::MessageHead& head);
  // The stored variant this request would be answered with (none: nullptr).
  cache::ObjectPtr look_up(const http::MessageHead& head);
  // Just after taking a fill's lease: a fill that ended since the look-up may have stored a
  // fresh answer already. Serves it (releasing the lease) and says so.
  bool answered_by_fill_that_just_ended(const http::MessageHead& head,
                                        const cache::ObjectPtr& looked_up);
  void on_fill_done();
  void stop_waiting();
  // The wait is over (the fetch ended, or lock_timeout passed): the stored response, or
  // the request goes to the target after all.
  void resume_after_wait();
  void continue_after_wait(const http::MessageHead& head);
  // Writes a stored response as the answer (200, or 206 / 304 / 416 as the client's
  // Range and conditions ask); `instead_of_target`: a target's response is being dropped.
  void serve_stored(const cache::ObjectPtr& object, CacheExchange::Outcome outcome,
                    bool instead_of_target);
  // A target's response head, for the cache: true when the cache answers instead (a 304
  // to its validators, or stale-if-error after a 5xx).
  bool cache_answers_response(const http::MessageHead& response);
  bool serve_stale_on_error();
  void start_capture(const http::MessageHead& response, bool coded, bool vary_accept_encoding);
  void capture_body(const char* data, size_t n);
  void finish_capture();
  std::string cache_status_line() const;
  const config::ResponseHeadersConfig* response_policy() const;
  // The request's way to the target of a forward rule (target group, target, breaker, the
  // head written upstream), after the cache did not answer it.
  void forward_request(const config::RuleConfig& rule, const http::MessageHead& head);
  // The rule's fault injection (session_limits.cc): true when the request was answered (an
  // abort) or its connection reset; a delay sets exchange_.fault_delaying.
  bool inject_fault(const config::FaultConfig& fault, const http::MessageHead& head);
  // The rule's rate limit: false when the request was answered 429 with Retry-After.
  bool admit_by_rate_limit(const config::RuleConfig& rule, int position,
                           const http::MessageHead& head);
  void count_body_bytes(size_t n);
  // The watchdog: one timer tick a second while a body is expected or a response waits for
  // a client that does not read; refuses a body below the minimum rate, closes a client that
  // reads nothing for send_timeout.
  void watch_client();
  void on_watchdog();
  void note_send_progress();
  // WebSocket tunnels (session_tunnel.cc): the 101 went out, from here on bytes.
  void start_tunnel();
  bool pump_tunnel();
  void end_tunnel();
  void on_tunnel_timer();
  // A new exchange: `exchange_ = {}`, and the connection's per-request scratch cleared.
  void reset_exchange();
  size_t upstream_budget() const;
  size_t client_budget() const;

  void fail_local(int status, const std::string& detail);
  void start_closing();
  void start_lingering();
  void close();
  void release_idle_buffers();
  static void on_client_timer(void* self);
  static void on_upstream_timer(void* self);

  // Moves to the worker's current snapshot, taken again at each request so that a reload
  // applies to keep-alive connections too. False (and nothing changes) when the current
  // configuration has no listener on this address: the connection is never routed by a
  // configuration its listener is not in.
  bool adopt_current_snapshot();

  Worker& worker_;
  // The configuration and target groups the current request routes by (see ConfigSnapshot).
  std::shared_ptr<const ConfigSnapshot> snapshot_;
  const config::ListenerConfig* listener_;  // in *snapshot_
  std::shared_ptr<metrics::ListenerStats> stats_;
  // Counts a response to the client, and the request's total time (ballast's own answers
  // are counted when written; forwarded ones when their head arrives, the time at the end).
  void count_response(int status);
  // The request's total time into the listener's histogram, once.
  void record_total_time();
  // A response status to the client, in the listener's and the matched rule's counts.
  void count_client_status(int status);

  // The access log's view of the exchange in progress (session_log.cc), in exchange_.log.
  void log_request(const http::MessageHead& head);
  void log_forwarded(int rule, std::string_view request_id);
  void log_response_head(int status);
  // Writes the exchange's line; `status` when the exchange ended without one (499: the
  // client went away).
  void log_exchange(int status_if_none = 0);
  std::shared_ptr<AccessLogWriter> access_log_;
  uint64_t bytes_in_total_ = 0;
  uint64_t bytes_out_total_ = 0;
  int fd_ = -1;
  // TLS listeners: the connection's TLS state (null on plain listeners).
  std::unique_ptr<tls::Stream> tls_;
  // An HTTP/2 stream's Session: the stream in place of a socket (null otherwise).
  StreamPort* port_ = nullptr;
  bool secure_ = false;  // the client's connection is TLS (X-Forwarded-Proto, redirects)
  // Whether the connection turns to HTTP/2: by ALPN during the TLS handshake, or by the
  // client's preface as its first bytes on a plain listener (h2c with prior knowledge).
  enum class Http2 { kNo, kPrefaceMayCome, kAlpnChoseIt };
  Http2 http2_ = Http2::kNo;
  std::string client_subject_;  // mutual TLS: the verified client certificate's subject
  core::SocketAddress peer_;
  std::string peer_ip_;
  Phase phase_ = Phase::kReadingHead;
  bool client_readable_ = true;  // a new socket may already hold the request
  bool client_writable_ = true;
  bool client_hangup_ = false;  // EPOLLRDHUP seen: read until EOF, not just a short read
  // Sends to the client wait until the worker has handled its whole batch of events
  // (responses leave in one burst, so clients wake less often). Requests to targets go
  // at once: the sooner a target starts, the sooner the response comes. Of the three
  // orderings tried with make bench (all at once, all deferred, this), this one did best,
  // by a few percent that is close to the noise of a shared 2-core machine.
  // Since when a response has waited for the client to read, without progress (0: it
  // does not wait).
  int64_t send_stalled_since_ms_ = 0;
  ConnectionLimiter::Admission admission_;
  bool flush_now_ = false;
  bool flush_wanted_ = false;
  bool resume_queued_ = false;
  bool client_eof_ = false;
  bool head_timer_armed_ = false;

  core::Buffer client_in_;
  core::Buffer client_out_;
  core::Buffer upstream_out_;
  core::Buffer upstream_in_;
  http::HeadScanner request_scanner_;
  http::HeadScanner response_scanner_;
  RequestSink request_sink_;
  ResponseSink response_sink_;
  http::MessageParser request_parser_;
  http::MessageParser response_parser_;
  core::Timer client_timer_;
  core::Timer upstream_timer_;

  // The request in progress and its response; a new request replaces it whole.
  Exchange exchange_;
  // A copy of the request head, kept only while it may have to be sent again (a stale
  // keep-alive connection, a retry). The connection's, like its buffers, so its memory
  // serves request after request.
  std::string replay_;
  std::string compressed_;  // a response body piece after its encoder (capacity kept)
  // The response cache's key and purge URL of the current request, and a copy of its head
  // while a miss may store (Vary picks request fields once the response names them) or
  // waits for another fetch (the request is sent on from it). The connection's, like
  // replay_, so their memory serves request after request.
  std::string cache_key_;
  std::string cache_url_;
  // A stored body on its way to the client, sent from the store's memory once client_out_
  // (which holds its head) is out: a hit of a large object copies no body bytes. Until it is
  // out, nothing else is queued for the client (a next request waits).
  cache::ObjectPtr stored_body_;
  size_t stored_body_at_ = 0;
  size_t stored_body_end_ = 0;
  // Bytes queued for the client: client_out_ and what is left of stored_body_.
  size_t queued_for_client() const {
    return client_out_.size() + (stored_body_end_ - stored_body_at_);
  }
  // One send to the client, counted; kBlocked: the socket is full (the watchdog watches),
  // kClosed: the client went away (the session is closed).
  enum class SendOutcome { kSent, kBlocked, kClosed };
  SendOutcome send_queued(const char* data, size_t n, size_t* sent);
  std::string cache_request_head_;
  std::vector<http::Header> cache_request_fields_;
};

}  // namespace ballast::proxy
