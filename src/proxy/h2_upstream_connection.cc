#include "proxy/h2_upstream_connection.h"

#include <nghttp2/nghttp2.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cstring>

#include "core/sockets.h"
#include "proxy/connection_timing.h"
#include "proxy/h2_upstream_stream.h"
#include "proxy/upstream.h"

namespace ballast::proxy {

namespace {
// Rounds of "deliver wakes" per drive: a Session woken may queue frames, never more wakes,
// but the bound holds whatever a later change does.
constexpr int kMaxWakeRounds = 4;
}  // namespace

H2UpstreamConnection::H2UpstreamConnection(TargetPool& pool, int fd,
                                           std::unique_ptr<tls::Stream> tls,
                                           std::shared_ptr<CircuitBreaker> breaker,
                                           const h2::Limits& limits, int64_t idle_timeout_ms)
    : pool_(pool),
      fd_(fd),
      tls_(std::move(tls)),
      breaker_(std::move(breaker)),
      idle_timeout_ms_(idle_timeout_ms),
      frames_(limits, *this),
      out_(nullptr),
      idle_timer_(&H2UpstreamConnection::on_idle_timeout, this) {}

H2UpstreamConnection::~H2UpstreamConnection() {
  for (auto& [serial, stream] : attached_) stream->forget_connection();
  if (fd_ >= 0) ::close(fd_);
  if (breaker_ != nullptr) breaker_->release(CircuitBreaker::Kind::kConnections);
}

bool H2UpstreamConnection::takes_streams() const {
  return (phase_ == Phase::kConnecting || phase_ == Phase::kOpen) &&
         attached_.size() < frames_.stream_limit();
}

std::unique_ptr<H2UpstreamStream> H2UpstreamConnection::new_stream() {
  auto stream = std::make_unique<H2UpstreamStream>(*this, next_serial_++, secure());
  attached_.emplace(stream->serial(), stream.get());
  idle_timer_.cancel();
  return stream;
}

void H2UpstreamConnection::on_io(uint32_t events) {
  if (phase_ == Phase::kClosed) return;
  if (events == 0) {
    resume_queued_ = false;
  } else {
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readable_ = true;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) writable_ = true;
    if (tls_) readable_ = writable_ = true;  // TLS may wait on either direction
  }
  if (connecting()) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    if (int err = core::socket_error(fd_); err != 0) {
      connect_error_ = err;
      close(std::string("could not connect (") + strerror(err) + ")");
      return;
    }
    const bool drain = phase_ == Phase::kConnectingToDrain;
    phase_ = Phase::kOpen;
    readable_ = writable_ = true;
    for (auto& [serial, stream] : attached_) wake(serial, EPOLLOUT);
    if (drain) {
      drive();  // the waiting streams open (their HEADERS are queued), then the GOAWAY
      if (phase_ == Phase::kOpen) shut_down();
      return;
    }
  }
  drive();
}

void H2UpstreamConnection::drive() {
  constexpr int kPassesPerTurn = 64;
  for (int pass = 0; phase_ != Phase::kClosed; ++pass) {
    if (pass == kPassesPerTurn) {
      flush_soon();
      return;
    }
    bool progress = read_target();
    if (phase_ != Phase::kClosed) progress |= write_target();
    if (phase_ != Phase::kClosed && !wakes_.empty()) {
      deliver_wakes();
      progress = true;
    }
    if (!progress) break;
  }
  if (phase_ == Phase::kClosed) return;
  update_idle_timer();
  close_if_done();
}

bool H2UpstreamConnection::read_target() {
  if (!readable_ || connecting()) return false;
  char buf[16384];
  core::IoResult r =
      tls_ ? tls_->read(buf, sizeof(buf)) : core::receive_some(fd_, buf, sizeof(buf));
  switch (r.state) {
    case core::IoState::kOk:
      if (!check_alpn()) return true;
      if (r.bytes < sizeof(buf) && !tls_) readable_ = false;
      if (!frames_.receive(buf, r.bytes)) {
        write_target();  // the GOAWAY that says why
        close("HTTP/2 protocol error from the target: " + frames_.failure());
      }
      return true;
    case core::IoState::kWantRead:
      readable_ = false;
      return false;
    case core::IoState::kWantWrite:
      writable_ = false;
      return false;
    case core::IoState::kClosed:
      close("the target closed its HTTP/2 connection");
      return true;
    case core::IoState::kFailed:
      close(transfer_failure());
      return true;
  }
  return false;
}

bool H2UpstreamConnection::write_target() {
  if (!writable_ || connecting()) return false;
  if (out_.size() < kMaxH2QueuedOut && !frames_.send(out_, kMaxH2QueuedOut)) {
    close("HTTP/2 error: " + frames_.failure());
    return true;
  }
  if (out_.empty()) return false;
  core::IoResult r =
      tls_ ? tls_->write(out_.data(), out_.size()) : core::send_some(fd_, out_.data(), out_.size());
  switch (r.state) {
    case core::IoState::kOk:
      if (!check_alpn()) return true;
      if (r.bytes < out_.size() && !tls_) writable_ = false;
      out_.consume(r.bytes);
      return true;
    case core::IoState::kWantWrite:
    case core::IoState::kWantRead:
      writable_ = false;
      return false;
    case core::IoState::kClosed:
    case core::IoState::kFailed:
      close(transfer_failure());
      return true;
  }
  return false;
}

bool H2UpstreamConnection::check_alpn() {
  if (!tls_ || alpn_checked_ || !tls_->handshake_done()) return true;
  alpn_checked_ = true;
  if (tls_->alpn() == "h2") return true;
  std::string chosen(tls_->alpn());
  close("the target does not speak HTTP/2 (ALPN h2): it chose " +
        (chosen.empty() ? std::string("no protocol") : chosen));
  return false;
}

std::string H2UpstreamConnection::transfer_failure() const {
  if (!tls_) return "the HTTP/2 connection to the target failed";
  std::string why = tls_->failure_reason();
  // OpenSSL's words for a server that offers no protocol ballast asked for.
  if (why.find("no application protocol") != std::string::npos)
    why += ": the target does not speak HTTP/2 (ALPN h2)";
  return "TLS with the target failed: " + why;
}

void H2UpstreamConnection::flush_soon() {
  if (resume_queued_ || phase_ == Phase::kClosed) return;
  resume_queued_ = true;
  pool_.loop().resume_soon(this);
}

void H2UpstreamConnection::wake(uint64_t serial, uint32_t events) {
  for (auto& [s, e] : wakes_) {
    if (s == serial) {
      e |= events;
      return;
    }
  }
  wakes_.emplace_back(serial, events);
}

void H2UpstreamConnection::deliver_wakes() {
  for (int round = 0; round < kMaxWakeRounds && !wakes_.empty(); ++round) {
    std::vector<std::pair<uint64_t, uint32_t>> wakes;
    wakes.swap(wakes_);
    for (auto [serial, events] : wakes) {
      // Looked up each time: a Session woken before may have let go of its stream.
      auto it = attached_.find(serial);
      if (it != attached_.end() && it->second->handle != nullptr) it->second->handle->on_io(events);
    }
  }
  if (!wakes_.empty()) flush_soon();
}

int32_t H2UpstreamConnection::open(H2UpstreamStream& stream, const h2::Fields& fields,
                                   bool has_body) {
  if (phase_ == Phase::kClosed || phase_ == Phase::kDraining) return -1;
  int32_t id = frames_.submit_request(fields, has_body);
  if (id < 0) return -1;
  streams_.emplace(id, &stream);
  flush_soon();
  return id;
}

void H2UpstreamConnection::detach(H2UpstreamStream& stream) {
  attached_.erase(stream.serial());
  if (phase_ == Phase::kClosed) return;
  if (stream.id() > 0 && streams_.erase(stream.id()) > 0) {
    // Its Session let go before the end (the client left, a timeout, a cut response).
    frames_.reset(stream.id(), NGHTTP2_CANCEL);
    flush_soon();
  }
  update_idle_timer();
  close_if_done();
}

void H2UpstreamConnection::resume_body(int32_t id) {
  frames_.resume_body(id);
  flush_soon();
}

void H2UpstreamConnection::consumed(int32_t id, size_t n) {
  frames_.consumed(id, n);
  flush_soon();  // a WINDOW_UPDATE may be due
}

void H2UpstreamConnection::reset(int32_t id, uint32_t error_code) {
  frames_.reset(id, error_code);
  flush_soon();
}

H2UpstreamStream* H2UpstreamConnection::stream(int32_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second;
}

void H2UpstreamConnection::on_response_head(int32_t id, h2::ResponseHead& head, bool end_stream) {
  if (H2UpstreamStream* s = stream(id)) s->on_head(head, end_stream);
}

void H2UpstreamConnection::on_response_data(int32_t id, const char* data, size_t n) {
  if (H2UpstreamStream* s = stream(id)) {
    s->on_data(data, n);
  } else {
    frames_.consumed(id, n);  // a stream we gave up: its bytes must not shut the window
  }
}

void H2UpstreamConnection::on_response_end(int32_t id) {
  if (H2UpstreamStream* s = stream(id)) s->on_end();
}

void H2UpstreamConnection::on_stream_close(int32_t id, uint32_t error_code) {
  H2UpstreamStream* s = stream(id);
  if (s == nullptr) return;
  streams_.erase(id);
  s->on_close(error_code, frames_.unprocessed(id, error_code));
}

size_t H2UpstreamConnection::read_request_body(int32_t id, char* buf, size_t len, bool* end) {
  if (H2UpstreamStream* s = stream(id)) return s->read_body(buf, len, end);
  *end = true;
  return 0;
}

void H2UpstreamConnection::shut_down() {
  if (phase_ == Phase::kClosed || phase_ == Phase::kConnectingToDrain) return;
  if (attached_.empty()) {
    frames_.shut_down();
    write_target();
    close("closing");
    return;
  }
  if (phase_ == Phase::kConnecting) {
    // Requests were given to this connection (a reload turning HTTP/2 off, say): they go
    // out once it is up, and it drains after them, as an open connection would.
    phase_ = Phase::kConnectingToDrain;
    return;
  }
  phase_ = Phase::kDraining;
  frames_.shut_down();
  flush_soon();
}

void H2UpstreamConnection::abandon() {
  close("the target group's pool closed");
}

void H2UpstreamConnection::close_if_done() {
  if (phase_ == Phase::kClosed || !attached_.empty()) return;
  // Nothing in progress, and no stream may start: the target's GOAWAY, or ours.
  if (phase_ == Phase::kDraining || frames_.stream_limit() == 0 || frames_.finished()) {
    write_target();
    close("no more streams");
  }
}

void H2UpstreamConnection::update_idle_timer() {
  bool idle = attached_.empty() && phase_ == Phase::kOpen;
  if (idle && !idle_timer_.armed()) {
    pool_.loop().timers().arm(idle_timer_, idle_timeout_ms_, pool_.loop().now_ms());
  } else if (!idle && idle_timer_.armed()) {
    idle_timer_.cancel();
  }
}

void H2UpstreamConnection::on_idle_timeout(void* self) {
  static_cast<H2UpstreamConnection*>(self)->shut_down();
}

void H2UpstreamConnection::close(const std::string& why) {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  idle_timer_.cancel();
  for (auto& [serial, stream] : attached_) {
    // A stream whose HEADERS never went out, or above the target's GOAWAY, was not seen.
    bool unprocessed = stream->id() < 0 || frames_.unprocessed(stream->id(), NGHTTP2_NO_ERROR);
    stream->on_connection_lost(why, unprocessed);
  }
  pool_.loop().remove(fd_);
  ::close(fd_);
  fd_ = -1;
  // The Sessions learn it now; then the streams they still hold forget this connection,
  // which the pool frees after the current batch of events.
  deliver_wakes();
  for (auto& [serial, stream] : attached_) stream->forget_connection();
  attached_.clear();
  streams_.clear();
  pool_.connection_closed(*this);
}

}  // namespace ballast::proxy
