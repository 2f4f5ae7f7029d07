#include "proxy/upstream.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/sockets.h"
#include "proxy/h2_upstream_connection.h"
#include "proxy/h2_upstream_stream.h"

namespace ballast::proxy {

UpstreamConnection::UpstreamConnection(TargetPool* pool, int fd,
                                       std::shared_ptr<CircuitBreaker> breaker)
    : pool_(pool),
      fd_(fd),
      breaker_(std::move(breaker)),
      idle_timer_(&UpstreamConnection::on_idle_timeout, this) {}

UpstreamConnection::UpstreamConnection(TargetPool* pool, std::unique_ptr<H2UpstreamStream> stream)
    : pool_(pool),
      fd_(-1),
      stream_(std::move(stream)),
      idle_timer_(&UpstreamConnection::on_idle_timeout, this) {
  stream_->handle = this;
}

UpstreamConnection::~UpstreamConnection() {
  stream_.reset();
  if (fd_ >= 0) close(fd_);
  if (breaker_ != nullptr) breaker_->release(CircuitBreaker::Kind::kConnections);
}

void UpstreamConnection::on_io(uint32_t events) {
  if (closed) return;
  if (owner != nullptr) {
    owner->on_upstream_io(events);
    return;
  }
  // Idle: the target closed the connection, or it is broken. Either way, drop it.
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    pool_->drop_idle(this);
  } else if ((events & EPOLLIN) && !idle_tls_still_usable()) {
    pool_->drop_idle(this);
  }
}

bool UpstreamConnection::idle_tls_still_usable() {
  if (!tls_) return false;  // bytes nobody asked for on a plain connection
  // A TLS 1.3 server sends session tickets after the handshake: reading them consumes no
  // application data and leaves the connection as good as it was.
  char byte;
  return tls_->read(&byte, 1).state == core::IoState::kWantRead;
}

core::IoResult UpstreamConnection::receive(char* buf, size_t len) {
  if (stream_) return stream_->read(buf, len);
  return tls_ ? tls_->read(buf, len) : core::receive_some(fd_, buf, len);
}

core::IoResult UpstreamConnection::send(const char* buf, size_t len) {
  if (stream_) return stream_->write(buf, len);
  return tls_ ? tls_->write(buf, len) : core::send_some(fd_, buf, len);
}

int UpstreamConnection::connect_error() const {
  return stream_ ? stream_->connect_error() : core::socket_error(fd_);
}

std::string UpstreamConnection::failure() const {
  if (stream_) return stream_->failure();
  return tls_ ? tls_->failure_reason() : std::string();
}

bool UpstreamConnection::failure_is_replayable() const {
  return stream_ ? stream_->unprocessed() : reused;
}

void UpstreamConnection::on_idle_timeout(void* self) {
  auto* conn = static_cast<UpstreamConnection*>(self);
  conn->pool_->drop_idle(conn);
}

TargetPool::TargetPool(core::EventLoop& loop, const core::SocketAddress& address, uint32_t max_idle,
                       int64_t idle_timeout_ms, std::shared_ptr<CircuitBreaker> breaker)
    : breaker_(std::move(breaker)),
      loop_(loop),
      address_(address),
      max_idle_(max_idle),
      idle_timeout_ms_(idle_timeout_ms) {}

TargetPool::~TargetPool() {
  idle_.clear();
  // Moved out first: a connection that closes tells its pool, which must not be this one
  // half destroyed.
  std::vector<std::unique_ptr<H2UpstreamConnection>> shared = std::move(h2_);
  for (auto& conn : shared) conn->abandon();
}

void TargetPool::set_limits(uint32_t max_idle, int64_t idle_timeout_ms,
                            std::shared_ptr<CircuitBreaker> breaker) {
  max_idle_ = max_idle;
  idle_timeout_ms_ = idle_timeout_ms;
  breaker_ = std::move(breaker);
  for (auto& conn : h2_) conn->set_idle_timeout(idle_timeout_ms);
  while (idle_.size() > max_idle_) {
    std::unique_ptr<UpstreamConnection> conn = std::move(idle_.front());
    idle_.erase(idle_.begin());
    discard(std::move(conn));
  }
}

std::unique_ptr<UpstreamConnection> TargetPool::acquire(bool http1_only) {
  if (http2_ && !http1_only) return http2_stream();
  if (!idle_.empty()) {
    std::unique_ptr<UpstreamConnection> conn = std::move(idle_.back());
    idle_.pop_back();
    conn->idle_timer_.cancel();
    conn->reused = true;
    return conn;
  }
  return new_http1_connection();
}

std::unique_ptr<UpstreamConnection> TargetPool::connect_new(bool http1_only) {
  // Connections that failed or go away take no streams, so any stream is a fresh try.
  if (http2_ && !http1_only) return http2_stream();
  return new_http1_connection();
}

int TargetPool::open_socket() {
  refused_by_breaker_ = false;
  if (breaker_ != nullptr && !breaker_->try_acquire(CircuitBreaker::Kind::kConnections)) {
    refused_by_breaker_ = true;
    return -1;
  }
  int fd = core::connect_tcp(address_);
  if (fd < 0 && breaker_ != nullptr) breaker_->release(CircuitBreaker::Kind::kConnections);
  return fd;
}

std::unique_ptr<UpstreamConnection> TargetPool::new_http1_connection() {
  int fd = open_socket();
  if (fd < 0) return nullptr;
  auto conn = std::make_unique<UpstreamConnection>(this, fd, breaker_);
  if (tls_) conn->tls_ = std::make_unique<tls::Stream>(tls_, fd, server_name_);
  loop_.add(fd, conn.get());
  return conn;
}

void TargetPool::set_tls(std::shared_ptr<const tls::ClientContext> context,
                         std::string server_name) {
  tls_ = std::move(context);
  server_name_ = std::move(server_name);
}

void TargetPool::set_http2(bool enabled, std::shared_ptr<const tls::ClientContext> h2_context) {
  http2_ = enabled;
  h2_tls_ = std::move(h2_context);
  if (!http2_) close_idle();  // HTTP/2 connections in use finish their streams first
}

std::unique_ptr<UpstreamConnection> TargetPool::http2_stream() {
  refused_by_breaker_ = false;
  for (auto& conn : h2_) {
    if (conn->takes_streams()) {
      auto up = std::make_unique<UpstreamConnection>(this, conn->new_stream());
      up->reused = conn->established();
      return up;
    }
  }
  int fd = open_socket();
  if (fd < 0) return nullptr;
  std::unique_ptr<tls::Stream> tls;
  if (h2_tls_) tls = std::make_unique<tls::Stream>(h2_tls_, fd, server_name_);
  auto conn = std::make_unique<H2UpstreamConnection>(*this, fd, std::move(tls), breaker_,
                                                     h2_limits_, idle_timeout_ms_);
  loop_.add(fd, conn.get());
  h2_.push_back(std::move(conn));
  return std::make_unique<UpstreamConnection>(this, h2_.back()->new_stream());
}

void TargetPool::connection_closed(H2UpstreamConnection& conn) {
  auto it = std::find_if(h2_.begin(), h2_.end(), [&](const auto& c) { return c.get() == &conn; });
  if (it == h2_.end()) return;  // the pool is being destroyed
  H2UpstreamConnection* raw = it->release();
  h2_.erase(it);
  loop_.defer_delete([raw] { delete raw; });
}

void TargetPool::release(std::unique_ptr<UpstreamConnection> conn) {
  conn->owner = nullptr;
  if (closing_ || conn->stream_ || idle_.size() >= max_idle_ || conn->closed) {
    discard(std::move(conn));
    return;
  }
  loop_.timers().arm(conn->idle_timer_, idle_timeout_ms_, loop_.now_ms());
  idle_.push_back(std::move(conn));
}

void TargetPool::discard(std::unique_ptr<UpstreamConnection> conn) {
  conn->owner = nullptr;
  conn->closed = true;
  conn->idle_timer_.cancel();
  // A stream lets go of its HTTP/2 connection now (reset if unfinished, a slot freed).
  conn->stream_.reset();
  // Close the socket now (so the target sees it at once) but free the object after the
  // current batch of events, which may still name it.
  if (conn->fd_ >= 0) {
    loop_.remove(conn->fd_);
    close(conn->fd_);
    conn->fd_ = -1;
  }
  UpstreamConnection* raw = conn.release();
  loop_.defer_delete([raw] { delete raw; });
}

void TargetPool::drop_idle(UpstreamConnection* conn) {
  auto it =
      std::find_if(idle_.begin(), idle_.end(), [&](const auto& c) { return c.get() == conn; });
  if (it == idle_.end()) return;
  std::unique_ptr<UpstreamConnection> owned = std::move(*it);
  *it = std::move(idle_.back());
  idle_.pop_back();
  discard(std::move(owned));
}

void TargetPool::close_idle() {
  while (!idle_.empty()) {
    std::unique_ptr<UpstreamConnection> conn = std::move(idle_.back());
    idle_.pop_back();
    discard(std::move(conn));
  }
  // HTTP/2 connections take no new streams and close when their last one ends (at once
  // when idle). Each may remove itself from h2_: go by a copy.
  std::vector<H2UpstreamConnection*> shared;
  for (auto& conn : h2_) shared.push_back(conn.get());
  for (H2UpstreamConnection* conn : shared) conn->shut_down();
}

}  // namespace ballast::proxy
