#include "nat/socket_diag.h"

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ballast::nat {

namespace {

// All of TCP's states, established to new-syn-recv.
constexpr uint32_t kAllStates = 0xFFFFFFFFu;

struct DiagRequest {
  nlmsghdr header;
  inet_diag_req_v2 request;
};

DiagRequest request_for(int family, uint16_t type, uint16_t flags) {
  DiagRequest m{};
  m.header.nlmsg_len = sizeof(m);
  m.header.nlmsg_type = type;
  m.header.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  m.request.sdiag_family = static_cast<uint8_t>(family);
  m.request.sdiag_protocol = IPPROTO_TCP;
  m.request.idiag_states = kAllStates;
  return m;
}

class NetlinkSocket {
 public:
  NetlinkSocket() : fd_(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) {}
  ~NetlinkSocket() {
    if (fd_ >= 0) close(fd_);
  }
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// A netlink message's payload, copied out (the buffer's alignment is not the struct's).
template <typename T>
T payload_of(const char* message) {
  T out{};
  std::memcpy(&out, message + NLMSG_HDRLEN, sizeof(T));
  return out;
}

// Calls `each(header, message)` for each whole message in a datagram of `n` bytes (what
// NLMSG_OK and NLMSG_NEXT do, without their casts); false when `each` says stop.
template <typename Each>
bool for_each_message(const char* buf, size_t n, Each each) {
  size_t offset = 0;
  while (offset + sizeof(nlmsghdr) <= n) {
    nlmsghdr h;
    std::memcpy(&h, buf + offset, sizeof(h));
    if (h.nlmsg_len < NLMSG_HDRLEN || offset + h.nlmsg_len > n) break;
    if (!each(h, buf + offset)) return false;
    offset += NLMSG_ALIGN(h.nlmsg_len);
  }
  return true;
}

std::string errno_text(const char* what, int error) {
  return std::string(what) + ": " + std::strerror(error);
}

core::SocketAddress peer_of(int family, const inet_diag_sockid& id) {
  sockaddr_storage ss{};
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = id.idiag_dport;
    std::memcpy(&a->sin_addr, id.idiag_dst, 4);
    return core::SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(a), sizeof(*a));
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
  a->sin6_family = AF_INET6;
  a->sin6_port = id.idiag_dport;
  std::memcpy(&a->sin6_addr, id.idiag_dst, 16);
  return core::SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(a), sizeof(*a));
}

}  // namespace

bool list_tcp_sockets(int family, std::vector<TcpSocket>* out, std::string* why) {
  NetlinkSocket nl;
  if (nl.fd() < 0) {
    *why = errno_text("sock_diag socket", errno);
    return false;
  }
  DiagRequest m = request_for(family, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP);
  if (send(nl.fd(), &m, sizeof(m), 0) < 0) {
    *why = errno_text("sock_diag request", errno);
    return false;
  }
  char buf[32768];
  // A dump ends with NLMSG_DONE (or an error); each read is bounded by the sockets there are.
  for (;;) {
    ssize_t n = recv(nl.fd(), buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      *why = errno_text("sock_diag dump", errno);
      return false;
    }
    if (n == 0) return true;
    int error = 0;
    bool done = false;
    for_each_message(buf, static_cast<size_t>(n), [&](const nlmsghdr& h, const char* message) {
      if (h.nlmsg_type == NLMSG_DONE) {
        done = true;
        return false;
      }
      if (h.nlmsg_type == NLMSG_ERROR) {
        error = -payload_of<nlmsgerr>(message).error;
        return false;
      }
      inet_diag_msg msg = payload_of<inet_diag_msg>(message);
      TcpSocket s;
      s.family = msg.idiag_family;
      s.id = msg.id;
      s.state = msg.idiag_state;
      s.cookie = static_cast<uint64_t>(msg.id.idiag_cookie[0]) |
                 (static_cast<uint64_t>(msg.id.idiag_cookie[1]) << 32);
      s.peer = peer_of(s.family, msg.id);
      out->push_back(s);
      return true;
    });
    if (error != 0) {
      *why = errno_text("sock_diag dump", error);
      return false;
    }
    if (done) return true;
  }
}

bool destroy_tcp_socket(const TcpSocket& socket, std::string* why) {
  NetlinkSocket nl;
  if (nl.fd() < 0) {
    *why = errno_text("sock_diag socket", errno);
    return false;
  }
  DiagRequest m = request_for(socket.family, SOCK_DESTROY, NLM_F_ACK);
  m.request.id = socket.id;
  if (send(nl.fd(), &m, sizeof(m), 0) < 0) {
    *why = errno_text("SOCK_DESTROY", errno);
    return false;
  }
  char buf[4096];
  ssize_t n = recv(nl.fd(), buf, sizeof(buf), 0);
  if (n < 0) {
    *why = errno_text("SOCK_DESTROY", errno);
    return false;
  }
  int error = 0;
  for_each_message(buf, static_cast<size_t>(n), [&](const nlmsghdr& h, const char* message) {
    if (h.nlmsg_type == NLMSG_ERROR) error = -payload_of<nlmsgerr>(message).error;
    return false;
  });
  if (error == 0 || error == ENOENT) return true;
  *why = errno_text("SOCK_DESTROY", error);
  return false;
}

}  // namespace ballast::nat
