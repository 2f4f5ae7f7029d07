#include "proxy/h2_connection.h"

#include <nghttp2/nghttp2.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "core/log.h"
#include "core/sockets.h"
#include "proxy/connection_timing.h"
#include "proxy/session.h"
#include "proxy/worker.h"

namespace ballast::proxy {

H2Connection::H2Connection(Worker& worker, Handover handover)
    : worker_(worker),
      snapshot_(std::move(handover.snapshot)),
      listener_(handover.listener),
      stats_(std::move(handover.stats)),
      access_log_(std::move(handover.access_log)),
      fd_(handover.fd),
      tls_(std::move(handover.tls)),
      peer_(handover.peer),
      peer_ip_(peer_.ip_string()),
      client_subject_(std::move(handover.client_subject)),
      admission_(std::move(handover.admission)),
      pending_input_(std::move(handover.already_read)),
      out_(&worker.buffers()),
      frames_(listener_->http2.limits, *this),
      timer_(&H2Connection::on_timer, this) {
  streams_.reserve(listener_->http2.limits.max_concurrent_streams);
  stats_->http2_connections.add();
}

H2Connection::~H2Connection() {
  if (fd_ >= 0) ::close(fd_);
}

core::BufferPool& H2Connection::buffers() {
  return worker_.buffers();
}

void H2Connection::start() {
  worker_.loop().add(fd_, this);
  if (!pending_input_.empty() && !frames_.receive(pending_input_.data(), pending_input_.size()))
    failed_ = true;
  pending_input_.clear();
  pending_input_.shrink_to_fit();
  drive();
}

void H2Connection::on_io(uint32_t events) {
  if (phase_ == Phase::kClosed) return;
  if (events == 0) {
    resume_queued_ = false;
  } else {
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readable_ = true;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) writable_ = true;
    if (tls_) readable_ = writable_ = true;  // TLS may wait on either direction
  }
  drive();
}

void H2Connection::flush_soon() {
  if (resume_queued_ || phase_ == Phase::kClosed) return;
  resume_queued_ = true;
  worker_.loop().resume_soon(this);
}

void H2Connection::wake_writer(int32_t id) {
  wake_writers_.push_back(id);
}

void H2Connection::drive() {
  if (phase_ == Phase::kLingering) {
    linger();
    return;
  }
  constexpr int kPassesPerTurn = 64;
  for (int pass = 0; phase_ != Phase::kClosed; ++pass) {
    if (pass == kPassesPerTurn) {
      flush_soon();
      return;
    }
    bool progress = read_client();
    if (phase_ == Phase::kClosed) return;
    progress |= write_client();
    if (phase_ == Phase::kClosed) return;
    if (!wake_writers_.empty()) {
      std::vector<int32_t> ids;
      ids.swap(wake_writers_);
      for (int32_t id : ids) {
        auto it = streams_.find(id);
        if (it != streams_.end()) it->second->wake_writer();
      }
      progress = true;
    }
    if (!progress) break;
  }
  if (phase_ == Phase::kClosed) return;
  bool idle = streams_.empty() && own_answers_.empty();
  bool flushed = out_.empty() && !frames_.wants_write();
  if (flushed && (frames_.finished() || failed_ || (phase_ == Phase::kDraining && idle))) {
    start_lingering();
    return;
  }
  if (idle && !timer_.armed()) {
    worker_.loop().timers().arm(timer_, listener_->idle_timeout_ms, worker_.loop().now_ms());
  } else if (!idle && timer_.armed()) {
    timer_.cancel();
  }
}

bool H2Connection::read_client() {
  if (!readable_ || failed_) return false;
  char buf[16384];
  core::IoResult r = receive(buf, sizeof(buf));
  switch (r.state) {
    case core::IoState::kOk:
      stats_->bytes_in.add(r.bytes);
      if (r.bytes < sizeof(buf) && !tls_) readable_ = false;
      if (!frames_.receive(buf, r.bytes)) failed_ = true;
      return true;
    case core::IoState::kWantRead:
      readable_ = false;
      return false;
    case core::IoState::kWantWrite:
      writable_ = false;
      return false;
    case core::IoState::kClosed:
    case core::IoState::kFailed:
      break;
  }
  close();
  return true;
}

bool H2Connection::write_client() {
  if (!writable_) return false;
  if (out_.size() < kMaxH2QueuedOut && !frames_.send(out_, kMaxH2QueuedOut)) {
    LOG_INFO("%s %s: HTTP/2: %s", peer_ip_.c_str(), listener_->name.c_str(),
             frames_.failure().c_str());
    close();
    return true;
  }
  if (out_.empty()) return false;
  core::IoResult r = send(out_.data(), out_.size());
  switch (r.state) {
    case core::IoState::kOk:
      stats_->bytes_out.add(r.bytes);
      if (r.bytes < out_.size() && !tls_) writable_ = false;
      out_.consume(r.bytes);
      if (out_.empty()) out_.release();
      return true;
    case core::IoState::kWantWrite:
    case core::IoState::kWantRead:
      writable_ = false;
      return false;
    case core::IoState::kClosed:
    case core::IoState::kFailed:
      break;
  }
  close();
  return true;
}

core::IoResult H2Connection::receive(char* buf, size_t len) {
  return tls_ ? tls_->read(buf, len) : core::receive_some(fd_, buf, len);
}

core::IoResult H2Connection::send(const char* buf, size_t len) {
  return tls_ ? tls_->write(buf, len) : core::send_some(fd_, buf, len);
}

void H2Connection::on_request_head(int32_t id, h2::RequestHead& head, bool end_stream) {
  if (phase_ != Phase::kOpen) {
    frames_.reset(id, NGHTTP2_REFUSED_STREAM);
    return;
  }
  stats_->http2_streams.add();
  if (head.too_large) {
    answer(id, 431,
           "the request's header fields are larger than max_header_list_size (" +
               std::to_string(listener_->http2.limits.max_header_list_size) + " bytes)\n");
    return;
  }
  if (head.method == "CONNECT" && head.protocol != "websocket") {
    answer(
        id, 501,
        head.protocol.empty()
            ? "CONNECT is not supported; WebSocket goes by extended CONNECT (RFC 8441)\n"
            : "extended CONNECT for \"" + head.protocol + "\" is not supported (websocket is)\n");
    return;
  }
  auto stream = std::make_unique<H2Stream>(*this, id);
  H2Stream* s = stream.get();
  streams_.emplace(id, std::move(stream));
  auto* session = new Session(worker_, snapshot_, *listener_, stats_, access_log_, *s, peer_,
                              peer_ip_, tls_ != nullptr, client_subject_);
  s->start(head, end_stream, listener_->http2.limits.initial_window_size, session);
  session->start();
}

void H2Connection::on_request_data(int32_t id, const char* data, size_t n) {
  auto it = streams_.find(id);
  if (it != streams_.end()) {
    it->second->add_body(data, n);
  } else {
    frames_.consumed(id, n);  // a body nobody waits for (ballast answered): let it come
  }
}

void H2Connection::on_request_end(int32_t id) {
  auto it = streams_.find(id);
  if (it != streams_.end()) it->second->end_request();
}

void H2Connection::on_stream_close(int32_t id, uint32_t) {
  own_answers_.erase(id);
  auto it = streams_.find(id);
  if (it != streams_.end() && it->second->stream_closed()) stream_done(id);
}

size_t H2Connection::read_response_body(int32_t id, char* buf, size_t len, bool* end) {
  auto it = streams_.find(id);
  if (it != streams_.end()) return it->second->read_body(buf, len, end);
  auto own = own_answers_.find(id);
  if (own == own_answers_.end()) {
    *end = true;
    return 0;
  }
  size_t n = std::min(len, own->second.size());
  std::memcpy(buf, own->second.data(), n);
  own->second.erase(0, n);
  *end = own->second.empty();
  return n;
}

void H2Connection::stream_done(int32_t id) {
  if (phase_ == Phase::kClosed || phase_ == Phase::kLingering) return;  // freed already
  auto it = streams_.find(id);
  if (it == streams_.end() || !it->second->done()) return;
  // Freed after the current event: the stream may be on the call stack (its Session's
  // close() is what told us).
  H2Stream* stream = it->second.release();
  streams_.erase(it);
  worker_.loop().defer_delete([stream] { delete stream; });
  flush_soon();
}

void H2Connection::answer(int32_t id, int status, const std::string& body) {
  stats_->responses.count(status);
  own_answers_[id] = body;
  frames_.submit_response(id, status,
                          {{"content-type", "text/plain; charset=utf-8"},
                           {"content-length", std::to_string(body.size())}},
                          true);
}

void H2Connection::begin_drain() {
  if (phase_ != Phase::kOpen) return;
  phase_ = Phase::kDraining;
  frames_.shut_down();
  flush_soon();
}

void H2Connection::on_reload() {
  const std::shared_ptr<const ConfigSnapshot>& current = worker_.snapshot();
  if (current == snapshot_) return;
  const config::ListenerConfig* now = current->find_listener(listener_->bind);
  if (now == nullptr) {
    // Its listener is gone: the streams in progress finish, no new one starts.
    begin_drain();
    return;
  }
  snapshot_ = current;
  listener_ = now;
}

void H2Connection::abort_streams() {
  // Every stream's Session stops (each logs its unanswered request); the streams are freed
  // after the current event, as their Sessions are.
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, stream] : streams) {
    stream->abort_session();
    H2Stream* raw = stream.release();
    worker_.loop().defer_delete([raw] { delete raw; });
  }
}

void H2Connection::start_lingering() {
  // Nothing more goes to the client: streams still in progress (a connection ended for an
  // attack) stop now rather than when the lingering is over.
  abort_streams();
  if (tls_) tls_->shutdown();  // close_notify
  ::shutdown(fd_, SHUT_WR);
  phase_ = Phase::kLingering;
  readable_ = true;
  worker_.loop().timers().arm(timer_, kLingerMs, worker_.loop().now_ms());
  linger();
}

void H2Connection::linger() {
  if (!readable_) return;
  char sink[16384];
  for (int i = 0; i < 64; ++i) {
    ssize_t n = ::recv(fd_, sink, sizeof(sink), 0);
    if (n > 0) continue;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      readable_ = false;
      return;
    }
    close();  // EOF or error: the client is done
    return;
  }
  flush_soon();  // still sending: go on after the other connections
}

void H2Connection::close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  timer_.cancel();
  if (frames_.ended_for_error()) {
    stats_->http2_goaways.add();
    LOG_INFO("%s %s: HTTP/2 connection ended: %s", peer_ip_.c_str(), listener_->name.c_str(),
             frames_.failure().c_str());
  }
  abort_streams();
  worker_.loop().remove(fd_);
  if (tls_) tls_->shutdown();
  ::close(fd_);
  fd_ = -1;
  admission_.reset();
  stats_->active_connections.add(-1);
  worker_.session_closed(this);
}

void H2Connection::on_timer(void* self) {
  auto* c = static_cast<H2Connection*>(self);
  if (c->phase_ == Phase::kClosed) return;
  if (c->phase_ == Phase::kLingering) {
    c->close();
    return;
  }
  // Idle for idle_timeout: GOAWAY, then the close once it is out.
  c->phase_ = Phase::kDraining;
  c->frames_.shut_down();
  c->drive();
}

}  // namespace ballast::proxy
