// Helpers of the nat tests: addresses, a network namespace of the test program's own (so
// the host's rules, flows and sockets are untouched) and plain loopback sockets.
#pragma once
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "core/socket_address.h"
#include "core/sockets.h"

namespace ballast::nat::test {

// Moves the process into a network namespace of its own with the loopback up, once.
inline bool own_namespace(std::string* why) {
  static std::string failure = [] {
    if (geteuid() != 0) return std::string("needs root (a network namespace and nftables)");
    if (unshare(CLONE_NEWNET) != 0) return std::string("unshare: ") + std::strerror(errno);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
    int rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    close(fd);
    return rc == 0 ? std::string() : std::string("loopback up: ") + std::strerror(errno);
  }();
  *why = failure;
  return failure.empty();
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// An address written as text ("10.0.0.5:6432", "[::1]:5432"), not resolved.
inline core::SocketAddress address_of(const std::string& text) {
  std::string error;
  auto a = core::SocketAddress::parse(text, &error, false);
  EXPECT_TRUE(a) << error;
  return a.value_or(core::SocketAddress{});
}

inline core::SocketAddress loopback(uint16_t port) {
  return address_of("127.0.0.1:" + std::to_string(port));
}

// A listening socket on 127.0.0.1 and a free port.
inline Fd listen_any(uint16_t* port) {
  std::string error;
  int fd = core::listen_tcp(loopback(0), false, 16, &error);
  EXPECT_GE(fd, 0) << error;
  *port = fd >= 0 ? core::local_address(fd).port() : 0;
  return Fd(fd);
}

inline Fd connect_to(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0) << std::strerror(errno);
  return Fd(fd);
}

// Whether `listener` has a connection to accept within `ms`; the accepted socket.
inline Fd accept_within(const Fd& listener, int ms) {
  pollfd p{listener.get(), POLLIN, 0};
  if (poll(&p, 1, ms) != 1) return Fd();
  return Fd(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
}

}  // namespace ballast::nat::test
