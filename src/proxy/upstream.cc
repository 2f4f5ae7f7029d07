#include "proxy/upstream.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/sockets.h"

namespace ballast::proxy {

UpstreamConnection::UpstreamConnection(TargetPool* pool, int fd,
                                       std::shared_ptr<CircuitBreaker> breaker)
    : pool_(pool),
      fd_(fd),
      breaker_(std::move(breaker)),
      idle_timer_(&UpstreamConnection::on_idle_timeout, this) {}

UpstreamConnection::~UpstreamConnection() {
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
  return tls_ ? tls_->read(buf, len) : core::receive_some(fd_, buf, len);
}

core::IoResult UpstreamConnection::send(const char* buf, size_t len) {
  return tls_ ? tls_->write(buf, len) : core::send_some(fd_, buf, len);
}

std::string UpstreamConnection::tls_failure() const {
  if (!tls_) return {};
  std::string why = tls_->failure();
  std::string verify = tls_->verify_error();
  if (!verify.empty()) why += (why.empty() ? "" : ": ") + verify;
  return why;
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
}

void TargetPool::set_limits(uint32_t max_idle, int64_t idle_timeout_ms,
                            std::shared_ptr<CircuitBreaker> breaker) {
  max_idle_ = max_idle;
  idle_timeout_ms_ = idle_timeout_ms;
  breaker_ = std::move(breaker);
  while (idle_.size() > max_idle_) {
    std::unique_ptr<UpstreamConnection> conn = std::move(idle_.front());
    idle_.erase(idle_.begin());
    discard(std::move(conn));
  }
}

std::unique_ptr<UpstreamConnection> TargetPool::acquire() {
  if (!idle_.empty()) {
    std::unique_ptr<UpstreamConnection> conn = std::move(idle_.back());
    idle_.pop_back();
    conn->idle_timer_.cancel();
    conn->reused = true;
    return conn;
  }
  return connect_new();
}

std::unique_ptr<UpstreamConnection> TargetPool::connect_new() {
  refused_by_breaker_ = false;
  if (breaker_ != nullptr && !breaker_->try_acquire(CircuitBreaker::Kind::kConnections)) {
    refused_by_breaker_ = true;
    return nullptr;
  }
  int fd = core::connect_tcp(address_);
  if (fd < 0) {
    if (breaker_ != nullptr) breaker_->release(CircuitBreaker::Kind::kConnections);
    return nullptr;
  }
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

void TargetPool::release(std::unique_ptr<UpstreamConnection> conn) {
  conn->owner = nullptr;
  if (closing_ || idle_.size() >= max_idle_ || conn->closed) {
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
  // Close the socket now (so the target sees it at once) but free the object after the
  // current batch of events, which may still name it.
  loop_.remove(conn->fd_);
  close(conn->fd_);
  conn->fd_ = -1;
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
}

}  // namespace ballast::proxy
