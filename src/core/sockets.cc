#include "core/sockets.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ballast::core {

int listen_tcp(const SocketAddress& address, bool reuse_port, int backlog, std::string* error) {
  int fd = socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + strerror(errno);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (address.family() == AF_INET6) {
    int zero = 0;  // "[::]:80" then also accepts IPv4, as users expect
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
  }
  if (bind(fd, address.sa(), address.length()) != 0) {
    *error = "cannot bind " + address.to_string() + ": " + strerror(errno);
    close(fd);
    return -1;
  }
  if (listen(fd, backlog) != 0) {
    *error = "cannot listen on " + address.to_string() + ": " + strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

int connect_tcp(const SocketAddress& address) {
  int fd = socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  set_tcp_nodelay(fd);
  if (connect(fd, address.sa(), address.length()) != 0 && errno != EINPROGRESS) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

int socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

void set_tcp_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

SocketAddress local_address(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

}  // namespace ballast::core

namespace ballast::core {

IoResult receive_some(int fd, char* buf, size_t len) {
  ssize_t n = ::recv(fd, buf, len, 0);
  if (n > 0) return {IoState::kOk, static_cast<size_t>(n)};
  if (n == 0) return {IoState::kClosed};
  if (errno == EAGAIN || errno == EINTR) return {IoState::kWantRead};
  return {IoState::kFailed};
}

IoResult send_some(int fd, const char* buf, size_t len) {
  ssize_t n = ::send(fd, buf, len, MSG_NOSIGNAL);
  if (n > 0) return {IoState::kOk, static_cast<size_t>(n)};
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return {IoState::kWantWrite};
  return {IoState::kFailed};
}

}  // namespace ballast::core
