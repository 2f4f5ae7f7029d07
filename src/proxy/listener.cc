#include "proxy/listener.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/log.h"
#include "core/sockets.h"
#include "proxy/worker.h"

namespace ballast::proxy {

Acceptor::Acceptor(Worker& worker, const config::ListenerConfig& listener, int fd)
    : worker_(worker), listener_(listener), fd_(fd) {}

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
      if (errno == EMFILE || errno == ENFILE) {
        LOG_WARN("listener %s: out of file descriptors, cannot accept", listener_.name.c_str());
        return;
      }
      LOG_WARN("listener %s: accept: %s", listener_.name.c_str(), strerror(errno));
      return;
    }
    core::set_tcp_nodelay(fd);
    worker_.accept_connection(
        listener_, fd, core::SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len));
  }
}

void Acceptor::close_listener() {
  if (fd_ < 0) return;
  accept_batch(1 << 20);
  worker_.loop().remove(fd_);
  close(fd_);
  fd_ = -1;
}

}  // namespace ballast::proxy
