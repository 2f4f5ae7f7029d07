#include "proxy/listener.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/log.h"
#include "core/sockets.h"
#include "proxy/worker.h"

namespace ballast::proxy {

Acceptor::Acceptor(Worker& worker, std::shared_ptr<const ConfigSnapshot> snapshot,
                   const config::ListenerConfig& listener, int fd)
    : worker_(worker),
      snapshot_(std::move(snapshot)),
      listener_(&listener),
      stats_(worker.listener_stats(listener)),
      access_log_(worker.access_log(listener)),
      fd_(fd) {}

void Acceptor::set_listener(std::shared_ptr<const ConfigSnapshot> snapshot,
                            const config::ListenerConfig& listener) {
  snapshot_ = std::move(snapshot);
  listener_ = &listener;
  stats_ = worker_.listener_stats(listener);
  access_log_ = worker_.access_log(listener);
}

Acceptor::~Acceptor() {
  if (fd_ >= 0) close(fd_);
}

void Acceptor::on_io(uint32_t) {
  accept_batch(64);
}

void Acceptor::accept_batch(int max) {
  for (int i = 0; i < max && fd_ >= 0; ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    int fd = accept4(fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        pause_accepting();
        return;
      }
      LOG_WARN("listener %s: accept: %s", listener_->name.c_str(), strerror(errno));
      return;
    }
    core::SocketAddress peer =
        core::SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    ConnectionLimiter::Admission admission;
    switch (snapshot_->limiter(*listener_)->admit(peer, &admission)) {
      case ConnectionLimiter::Verdict::kAdmitted:
        break;
      case ConnectionLimiter::Verdict::kListenerFull:
        // Closed at once: cheaper than an answer, and the client may try another node.
        stats_->refused_listener_full.add();
        ::close(fd);
        continue;
      case ConnectionLimiter::Verdict::kClientFull:
        stats_->refused_client_full.add();
        ::close(fd);
        continue;
    }
    core::set_tcp_nodelay(fd);
    worker_.accept_connection(snapshot_, *listener_, stats_, access_log_, fd, peer,
                              std::move(admission));
  }
}

void Acceptor::pause_accepting() {
  constexpr int64_t kPauseMs = 100;
  int64_t now = worker_.loop().now_ms();
  if (now - last_warning_ms_ >= 1000) {
    last_warning_ms_ = now;
    LOG_WARN("listener %s: cannot accept (%s); pausing accepts for %lldms", listener_->name.c_str(),
             strerror(errno), static_cast<long long>(kPauseMs));
  }
  if (!paused_) worker_.loop().remove(fd_);
  paused_ = true;
  worker_.loop().timers().arm(resume_timer_, kPauseMs, now);
}

void Acceptor::on_resume(void* self) {
  auto* a = static_cast<Acceptor*>(self);
  if (!a->paused_ || a->fd_ < 0) return;
  a->paused_ = false;
  a->worker_.loop().add_level_triggered(a->fd_, EPOLLIN, a);
}

void Acceptor::close_listener() {
  if (fd_ < 0) return;
  accept_batch(1 << 20);
  resume_timer_.cancel();
  if (!paused_) worker_.loop().remove(fd_);
  close(fd_);
  fd_ = -1;
}

}  // namespace ballast::proxy
