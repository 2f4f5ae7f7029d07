#include "proxy/session.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/clock.h"
#include "core/log.h"
#include "core/sockets.h"
#include "proxy/connection_timing.h"
#include "proxy/local_response.h"
#include "proxy/proxy_protocol.h"
#include "proxy/worker.h"

namespace ballast::proxy {

namespace {
http::HeadLimits request_limits(const config::ListenerConfig& l) {
  return http::HeadLimits{l.limits.max_request_line, l.limits.max_header_size,
                          l.limits.max_headers};
}
// Targets are trusted more than clients, but not unboundedly.
constexpr http::HeadLimits kResponseLimits{16 * 1024, 64 * 1024, 256};
// How long an idle keep-alive connection stays open once draining begins.
constexpr int64_t kDrainGraceMs = 1000;
}  // namespace

Session::Session(Worker& worker, std::shared_ptr<const ConfigSnapshot> snapshot,
                 const config::ListenerConfig& listener,
                 std::shared_ptr<metrics::ListenerStats> stats,
                 std::shared_ptr<AccessLogWriter> access_log, const core::SocketAddress& peer,
                 std::string peer_ip)
    : worker_(worker),
      snapshot_(std::move(snapshot)),
      listener_(&listener),
      stats_(std::move(stats)),
      access_log_(std::move(access_log)),
      peer_(peer),
      peer_ip_(std::move(peer_ip)),
      client_in_(&worker.buffers()),
      client_out_(&worker.buffers()),
      upstream_out_(&worker.buffers()),
      upstream_in_(&worker.buffers()),
      request_scanner_(request_limits(listener)),
      response_scanner_(kResponseLimits),
      request_sink_(),
      response_sink_(),
      request_parser_(http::MessageParser::Kind::kRequest, request_limits(listener),
                      &request_sink_),
      response_parser_(http::MessageParser::Kind::kResponse, kResponseLimits, &response_sink_),
      client_timer_(&Session::on_client_timer, this),
      upstream_timer_(&Session::on_upstream_timer, this) {
  request_sink_.s = this;
  response_sink_.s = this;
}

Session::Session(Worker& worker, std::shared_ptr<const ConfigSnapshot> snapshot,
                 const config::ListenerConfig& listener,
                 std::shared_ptr<metrics::ListenerStats> stats,
                 std::shared_ptr<AccessLogWriter> access_log, int fd,
                 const core::SocketAddress& peer, ConnectionLimiter::Admission admission)
    : Session(worker, std::move(snapshot), listener, std::move(stats), std::move(access_log), peer,
              peer.ip_string()) {
  fd_ = fd;
  admission_ = std::move(admission);
  if (sends_proxy_header(listener, peer)) phase_ = Phase::kProxyHeader;
  if (listener.tls.context) {
    tls_ = std::make_unique<tls::Stream>(listener.tls.context, fd_);
    secure_ = true;
  } else {
    if (listener.http2.enabled) http2_ = Http2::kPrefaceMayCome;
  }
  stats_->connections.add();
  stats_->active_connections.add(1);
}

Session::Session(Worker& worker, std::shared_ptr<const ConfigSnapshot> snapshot,
                 const config::ListenerConfig& listener,
                 std::shared_ptr<metrics::ListenerStats> stats,
                 std::shared_ptr<AccessLogWriter> access_log, StreamPort& port,
                 const core::SocketAddress& peer, std::string peer_ip, bool secure,
                 std::string client_subject)
    : Session(worker, std::move(snapshot), listener, std::move(stats), std::move(access_log), peer,
              std::move(peer_ip)) {
  port_ = &port;
  secure_ = secure;
  client_subject_ = std::move(client_subject);
}

Session::~Session() {
  stop_waiting();
  if (fd_ >= 0) ::close(fd_);
}

void Session::start() {
  if (port_ != nullptr) {
    drive();
    return;
  }
  worker_.loop().add(fd_, this);
  // The first request gets header_timeout from the moment the connection is accepted.
  worker_.loop().timers().arm(client_timer_, listener_->header_timeout_ms, worker_.loop().now_ms());
  head_timer_armed_ = true;
  drive();
}

void Session::on_io(uint32_t events) {
  if (phase_ == Phase::kClosed) return;
  if (events == 0) {
    // Resumed after the event batch: send what the batch produced, then go on.
    resume_queued_ = false;
    flush_wanted_ = false;
    flush_now_ = true;
    drive();
    flush_now_ = false;
    return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) client_readable_ = true;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) client_hangup_ = true;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) client_writable_ = true;
  if (tls_) {
    // A TLS read may wait for the socket to be writable and a write for it to be
    // readable: any readiness is worth one more try of both.
    client_readable_ = true;
    client_writable_ = true;
  }
  drive();
}

void Session::on_upstream_io(uint32_t events) {
  if (phase_ == Phase::kClosed || !exchange_.upstream) return;
  if (!exchange_.upstream->connected) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    if (int err = exchange_.upstream->connect_error(); err != 0) {
      upstream_failed("could not connect to target " +
                      exchange_.group->target_text(static_cast<size_t>(exchange_.target)) + " (" +
                      strerror(err) + ")");
      drive();
      return;
    }
    on_upstream_connected();
  }
  UpstreamConnection& up = *exchange_.upstream;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) up.readable = true;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) up.hangup = true;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) up.writable = true;
  if (up.uses_tls()) {
    // As on the client side: a TLS read may wait for writability and a write for input.
    up.readable = true;
    up.writable = true;
  }
  drive();
}

void Session::drive() {
  // Each pass moves bytes or the loop stops. A connection whose peers keep up could move
  // bytes forever, so after a fixed number of passes it yields to the other connections
  // and resumes right after them (edge-triggered epoll would not wake it again).
  constexpr int kPassesPerTurn = 64;
  for (int pass = 0; phase_ != Phase::kClosed; ++pass) {
    if (pass == kPassesPerTurn) {
      queue_resume();
      return;
    }
    bool progress = false;
    progress |= read_client();
    if (wants_http2()) {
      hand_over_to_http2();
      return;
    }
    if (phase_ == Phase::kTunnel) {
      progress |= pump_tunnel();
    } else {
      progress |= process_request_bytes();
      progress |= flush_upstream();
      progress |= read_upstream();
      progress |= process_response_bytes();
      if (phase_ == Phase::kExchange && exchange_.request_complete &&
          exchange_.response == Exchange::Response::kComplete) {
        finish_exchange();
        progress = true;
      }
    }
    progress |= flush_client();
    if (phase_ == Phase::kClosing && queued_for_client() == 0) {
      start_lingering();
      progress = true;
    }
    if (!progress) break;
  }
  if (flush_wanted_ && phase_ != Phase::kClosed) queue_resume();
}

void Session::queue_resume() {
  if (resume_queued_) return;
  resume_queued_ = true;
  worker_.loop().resume_soon(this);
}

bool Session::read_client() {
  if (!client_readable_ || client_eof_) return false;
  if (phase_ == Phase::kLingering) {
    char sink[16384];
    for (int i = 0; i < 64; ++i) {
      ssize_t n = ::recv(fd_, sink, sizeof(sink), 0);
      if (n > 0) continue;
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        client_readable_ = false;
        return false;
      }
      close();  // EOF or error: the client is done
      return true;
    }
    return false;
  }
  if (phase_ == Phase::kClosing || phase_ == Phase::kClosed) return false;
  if (phase_ == Phase::kExchange && (exchange_.request_complete || upstream_budget() == 0))
    return false;
  if (phase_ == Phase::kTunnel && upstream_budget() == 0) return false;
  if (!client_in_.has_memory() || client_in_.tail_room() == 0) {
    // Grow only while a head is incomplete (the scanner bounds it); a body waits for room.
    if (client_in_.has_memory() && phase_ != Phase::kReadingHead && client_in_.free_space() == 0)
      return false;
    client_in_.ensure_tail_room(client_in_.has_memory() ? 8192 : core::BufferPool::kBlockSize);
  }
  size_t room = client_in_.tail_room();
  core::IoResult r = receive_from_client(client_in_.write_ptr(), room);
  switch (r.state) {
    case core::IoState::kOk:
      if (port_ == nullptr) stats_->bytes_in.add(r.bytes);  // HTTP/2 counts its frames
      bytes_in_total_ += r.bytes;
      client_in_.commit(r.bytes);
      // A short read drained the socket. Not so through TLS, which hands over one record
      // per call: there only kWantRead says the socket is empty.
      if (r.bytes < room && !client_hangup_ && !tls_) client_readable_ = false;
      return true;
    case core::IoState::kClosed:
      client_eof_ = true;
      client_readable_ = false;
      handle_client_eof();
      return true;
    case core::IoState::kWantRead:
      client_readable_ = false;
      return false;
    case core::IoState::kWantWrite:
      client_writable_ = false;  // a TLS handshake flight waits for room
      return false;
    case core::IoState::kFailed:
      break;
  }
  close();  // reset by peer, or a broken TLS handshake
  return true;
}

void Session::handle_client_eof() {
  switch (phase_) {
    case Phase::kProxyHeader:
      close();
      break;
    case Phase::kReadingHead:
      // Nothing, or an incomplete head, and nothing more will come.
      if (queued_for_client() == 0)
        close();
      else
        start_closing();
      break;
    case Phase::kExchange:
      if (!exchange_.request_complete) {
        // The client gave up mid-request: nothing to answer.
        close();
      } else {
        exchange_.keep_alive = false;  // answer, then close
      }
      break;
    case Phase::kTunnel:
      break;  // pump_tunnel() passes on what came before, then ends the tunnel
    case Phase::kClosing:
    case Phase::kLingering:
      if (queued_for_client() == 0) close();
      break;
    case Phase::kClosed:
      break;
  }
}

Session::SendOutcome Session::send_queued(const char* data, size_t n, size_t* sent) {
  core::IoResult r = send_to_client(data, n);
  switch (r.state) {
    case core::IoState::kOk:
      if (port_ == nullptr) stats_->bytes_out.add(r.bytes);
      bytes_out_total_ += r.bytes;
      // TLS writes a record per call; only a plain socket's short send means it is full.
      if (r.bytes < n && !tls_) client_writable_ = false;
      *sent = r.bytes;
      return SendOutcome::kSent;
    case core::IoState::kWantWrite:
    case core::IoState::kWantRead:  // TLS: the next readiness event retries
      client_writable_ = false;
      if (send_stalled_since_ms_ == 0) send_stalled_since_ms_ = worker_.loop().now_ms();
      watch_client();
      return SendOutcome::kBlocked;
    case core::IoState::kClosed:
    case core::IoState::kFailed:
      break;
  }
  close();  // the client went away
  return SendOutcome::kClosed;
}

bool Session::flush_client() {
  if (queued_for_client() == 0 || !client_writable_ || phase_ == Phase::kClosed) return false;
  if (!flush_now_) {
    flush_wanted_ = true;
    return false;
  }
  // The queue first (heads, and bodies that were copied), then a stored body straight from
  // the store's memory.
  bool progress = false;
  size_t sent = 0;
  if (!client_out_.empty()) {
    SendOutcome o = send_queued(client_out_.data(), client_out_.size(), &sent);
    if (o != SendOutcome::kSent) return o == SendOutcome::kClosed;
    client_out_.consume(sent);
    progress = true;
  }
  if (client_out_.empty() && stored_body_ && client_writable_) {
    SendOutcome o = send_queued(stored_body_->body().data() + stored_body_at_,
                                stored_body_end_ - stored_body_at_, &sent);
    if (o == SendOutcome::kClosed) return true;
    if (o == SendOutcome::kSent) {
      progress = true;
      stored_body_at_ += sent;
      if (stored_body_at_ == stored_body_end_) {
        stored_body_.reset();
        stored_body_at_ = stored_body_end_ = 0;
      }
    }
  }
  if (!progress) return false;
  note_send_progress();
  if (client_out_.empty() && phase_ == Phase::kReadingHead) release_idle_buffers();
  return true;
}

bool Session::read_upstream() {
  if (!exchange_.upstream || !exchange_.upstream->connected || !exchange_.upstream->readable ||
      exchange_.upstream_eof)
    return false;
  bool awaiting_response =
      phase_ == Phase::kExchange && exchange_.response != Exchange::Response::kComplete;
  if (!awaiting_response && phase_ != Phase::kTunnel) return false;
  if (client_budget() == 0) return false;
  if (!upstream_in_.has_memory() || upstream_in_.tail_room() == 0) {
    if (upstream_in_.has_memory() && exchange_.final_head_done() && upstream_in_.free_space() == 0)
      return false;
    upstream_in_.ensure_tail_room(upstream_in_.has_memory() ? 8192 : core::BufferPool::kBlockSize);
  }
  size_t room = upstream_in_.tail_room();
  UpstreamConnection& up = *exchange_.upstream;
  core::IoResult r = up.receive(upstream_in_.write_ptr(), room);
  switch (r.state) {
    case core::IoState::kOk:
      upstream_in_.commit(r.bytes);
      // A short read drained the socket; through TLS only kWantRead says so.
      if (r.bytes < room && !up.hangup && !up.uses_tls()) up.readable = false;
      return true;
    case core::IoState::kWantRead:
      up.readable = false;
      return false;
    case core::IoState::kWantWrite:
      up.writable = false;  // a TLS handshake flight waits for room
      return false;
    case core::IoState::kClosed:
      break;
    case core::IoState::kFailed:
      if (up.uses_tls() && !exchange_.final_head_done()) {
        upstream_failed("TLS with target " +
                        exchange_.group->target_text(static_cast<size_t>(exchange_.target)) +
                        " failed: " + up.failure());
        return true;
      }
      break;
  }
  exchange_.upstream_eof = true;  // EOF or reset: handled once buffered bytes are parsed
  up.readable = false;
  return true;
}

bool Session::flush_upstream() {
  if (upstream_out_.empty() || !exchange_.upstream || !exchange_.upstream->connected ||
      !exchange_.upstream->writable || (phase_ != Phase::kExchange && phase_ != Phase::kTunnel))
    return false;
  UpstreamConnection& up = *exchange_.upstream;
  core::IoResult r = up.send(upstream_out_.data(), upstream_out_.size());
  switch (r.state) {
    case core::IoState::kOk:
      if (r.bytes < upstream_out_.size() && !up.uses_tls()) up.writable = false;
      upstream_out_.consume(r.bytes);
      return true;
    case core::IoState::kWantWrite:
    case core::IoState::kWantRead:  // TLS: the next readiness event retries
      up.writable = false;
      return false;
    case core::IoState::kClosed:
      break;
    case core::IoState::kFailed:
      if (up.uses_tls() && !exchange_.final_head_done() && !up.failure().empty()) {
        upstream_failed("TLS with target " +
                        exchange_.group->target_text(static_cast<size_t>(exchange_.target)) +
                        " failed: " + up.failure());
        return true;
      }
      break;
  }
  // The target closed or reset the connection while we were sending. Its response (if
  // any) may still be readable; the read side reports the outcome.
  upstream_out_.consume(upstream_out_.size());
  exchange_.upstream_eof = true;
  exchange_.upstream->readable = true;
  return true;
}

void Session::begin_drain() {
  if (phase_ != Phase::kReadingHead || !client_in_.empty()) return;  // busy: ends after it
  // Idle. Closing at once would meet any request already on its way (a keep-alive client
  // sends its next one the moment the last answer arrives), and the client would see its
  // connection fail. So an idle connection gets a moment: a request that comes is served,
  // with Connection: close, and one that does not closes when the moment is over (HAProxy's
  // idle-close-on-response, for the same reason).
  worker_.loop().timers().arm(client_timer_, kDrainGraceMs, worker_.loop().now_ms());
}

void Session::on_reload() {
  if (phase_ != Phase::kReadingHead || !client_in_.empty()) return;
  if (adopt_current_snapshot()) return;
  // Its listener is gone: an idle connection closes now (or once its last response is
  // out). Unlike a drain, no grace: a request sent after the reload must not be served by
  // a listener the operator removed.
  if (queued_for_client() == 0)
    close();
  else
    start_closing();
}

bool Session::adopt_current_snapshot() {
  const std::shared_ptr<const ConfigSnapshot>& current = worker_.snapshot();
  if (current == snapshot_) return true;
  const config::ListenerConfig* now = current->find_listener(listener_->bind);
  if (now == nullptr) return false;
  snapshot_ = current;
  listener_ = now;
  return true;
}

void Session::fail_local(int status, const std::string& detail) {
  if (phase_ == Phase::kClosed) return;
  if (exchange_.upstream) {
    exchange_.upstream->pool()->discard(std::move(exchange_.upstream));
  }
  if (exchange_.group != nullptr && exchange_.target >= 0) {
    // Every 502 and 504 is the target's failure (no answer, a bad one, or too late).
    if (status == 502 || status == 504) {
      exchange_.group->record_outcome(static_cast<size_t>(exchange_.target), true);
      exchange_.group->target_stats(static_cast<size_t>(exchange_.target)).failures.add();
    }
    exchange_.group->request_finished(static_cast<size_t>(exchange_.target));
  }
  release_group_slots();
  exchange_.group = nullptr;
  exchange_.target = -1;
  upstream_timer_.cancel();
  // Requests waiting for this one's fetch go on their own.
  exchange_.cache.lease.reset();
  exchange_.cache.capture.reset();
  if (exchange_.cache.step == CacheExchange::Step::kRefreshing) {
    // The client has its (stale) answer; only the refresh failed.
    LOG_INFO("%s %s: refreshing a stale response in the background failed: %d %s", peer_ip_.c_str(),
             listener_->name.c_str(), status, detail.c_str());
    exchange_.response = Exchange::Response::kComplete;
    return;
  }
  if (status >= 500 && !exchange_.final_head_done() && serve_stale_on_error()) {
    LOG_INFO("%s %s: served stale from the cache instead of %d: %s", peer_ip_.c_str(),
             listener_->name.c_str(), status, detail.c_str());
    return;
  }
  if (exchange_.final_head_done()) {
    // Part of the response is already out: the only honest signal left is to close.
    close();
    return;
  }
  if (status >= 500) {
    LOG_WARN("%s %s: %d %s", peer_ip_.c_str(), listener_->name.c_str(), status, detail.c_str());
  } else {
    LOG_INFO("%s %s: %d %s", peer_ip_.c_str(), listener_->name.c_str(), status, detail.c_str());
  }
  write_local_response(client_out_, status, detail);
  count_response(status);
  log_exchange();
  exchange_.response = Exchange::Response::kComplete;
  start_closing();
}

void Session::start_closing() {
  phase_ = Phase::kClosing;
  client_timer_.cancel();
}

void Session::start_lingering() {
  // Half-close: the client reads our last response, then sees EOF. We keep reading
  // whatever it still sends for a short while so the kernel does not answer with RST.
  // An HTTP/2 stream has nothing to linger on: its connection goes on.
  if (port_ != nullptr) {
    close();
    return;
  }
  if (tls_) tls_->shutdown();  // close_notify: the client knows nothing was cut
  ::shutdown(fd_, SHUT_WR);
  if (client_eof_) {
    close();
    return;
  }
  phase_ = Phase::kLingering;
  client_readable_ = true;
  worker_.loop().timers().arm(client_timer_, kLingerMs, worker_.loop().now_ms());
}

void Session::count_client_status(int status) {
  stats_->responses.count(status);
  if (exchange_.rule >= 0) stats_->rule(exchange_.rule).responses.count(status);
}

void Session::count_response(int status) {
  count_client_status(status);
  exchange_.log.status = status;
  record_total_time();
}

void Session::record_total_time() {
  if (exchange_.head_us == 0) return;  // already recorded (or no request)
  stats_->total_time.record(static_cast<uint64_t>(core::monotonic_us() - exchange_.head_us));
  exchange_.head_us = 0;
}

void Session::close() {
  if (phase_ == Phase::kClosed) return;
  // Closing after the last response went out whole, as opposed to cutting one.
  bool graceful = phase_ == Phase::kClosing || phase_ == Phase::kLingering;
  if (!client_out_.empty()) {
    // Sends wait for the end of the event batch; what is queued (part of a response
    // whose target failed, say) still goes out, best effort, before the close.
    send_to_client(client_out_.data(), client_out_.size());
  }
  if (phase_ == Phase::kTunnel) end_tunnel();
  phase_ = Phase::kClosed;
  admission_.reset();
  if (port_ == nullptr) stats_->active_connections.add(-1);
  if (exchange_.log.pending) log_exchange(499);
  client_timer_.cancel();
  upstream_timer_.cancel();
  if (exchange_.upstream) exchange_.upstream->pool()->discard(std::move(exchange_.upstream));
  if (exchange_.group != nullptr && exchange_.target >= 0)
    exchange_.group->request_finished(static_cast<size_t>(exchange_.target));
  release_group_slots();
  exchange_.group = nullptr;
  if (port_ != nullptr) {
    port_->session_closed(graceful);
    port_ = nullptr;
    worker_.loop().defer_delete([this] { delete this; });
    return;
  }
  worker_.loop().remove(fd_);
  // close_notify, best effort: OpenSSL forgets the session of a connection that ends
  // without one, and the client could not resume it.
  if (tls_) tls_->shutdown();
  ::close(fd_);
  fd_ = -1;
  worker_.session_closed(this);
}

void Session::release_idle_buffers() {
  if (client_in_.empty()) client_in_.release();
  if (client_out_.empty()) client_out_.release();
  if (upstream_out_.empty()) upstream_out_.release();
  if (upstream_in_.empty()) upstream_in_.release();
}

void Session::on_client_timer(void* self) {
  auto* s = static_cast<Session*>(self);
  switch (s->phase_) {
    case Phase::kProxyHeader:
      LOG_INFO("%s %s: no PROXY header within %lldms; closed", s->peer_ip_.c_str(),
               s->listener_->name.c_str(), static_cast<long long>(s->listener_->header_timeout_ms));
      s->close();
      break;
    case Phase::kReadingHead:
      if (s->client_in_.empty()) {
        // Idle for idle_timeout (or never sent anything). A request that arrived since the
        // last read is served rather than closed under the client's feet; the race with one
        // still on its way is the client's to handle (RFC 9112 9.3.1: resend on a new
        // connection), which is why idle_timeout should exceed the clients' own.
        s->client_readable_ = true;
        s->drive();
        if (s->phase_ == Phase::kReadingHead && s->client_in_.empty()) s->close();
      } else {
        s->fail_local(408, "the request headers were not received within " +
                               std::to_string(s->listener_->header_timeout_ms) + "ms");
        s->drive();
      }
      break;
    case Phase::kTunnel:
      s->on_tunnel_timer();
      break;
    case Phase::kExchange:
    case Phase::kClosing:
      s->on_watchdog();
      break;
    case Phase::kLingering:
      s->close();
      break;
    case Phase::kClosed:
      break;
  }
}

}  // namespace ballast::proxy
