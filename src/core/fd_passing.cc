#include "core/fd_passing.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace ballast::core {

namespace {
// The kernel's bound on descriptors in one message (SCM_MAX_FD).
constexpr size_t kMaxFds = 253;
}  // namespace

bool send_with_fds(int socket, const std::string& payload, const std::vector<int>& fds,
                   std::string* error) {
  if (fds.size() > kMaxFds) {
    *error = "too many sockets to hand over in one message (" + std::to_string(fds.size()) + ")";
    return false;
  }
  if (payload.empty()) {
    *error = "an empty message cannot carry descriptors";
    return false;
  }
  iovec iov{const_cast<char*>(payload.data()), payload.size()};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * kMaxFds));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (c == nullptr) {
      *error = "no room for the descriptors";
      return false;
    }
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  // The payload is small (one JSON object): it goes in the one message with the fds.
  ssize_t n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
  if (n != static_cast<ssize_t>(payload.size())) {
    *error = std::string("sendmsg: ") + (n < 0 ? strerror(errno) : "short write");
    return false;
  }
  return true;
}

bool receive_with_fds(int socket, size_t max_payload, int timeout_ms, std::string* payload,
                      std::vector<int>* fds, std::string* error) {
  pollfd p{socket, POLLIN, 0};
  int ready = ::poll(&p, 1, timeout_ms);
  if (ready <= 0) {
    *error = ready == 0 ? "nothing received within " + std::to_string(timeout_ms) + "ms"
                        : std::string("poll: ") + strerror(errno);
    return false;
  }
  std::string buf(max_payload, '\0');
  iovec iov{buf.data(), buf.size()};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * kMaxFds));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  ssize_t n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  if (n <= 0) {
    *error =
        n == 0 ? "the other process closed the socket" : std::string("recvmsg: ") + strerror(errno);
    return false;
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      fds->push_back(fd);
    }
  }
  if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
    *error = "the message was larger than expected";
    return false;
  }
  buf.resize(static_cast<size_t>(n));
  *payload = std::move(buf);
  return true;
}

void notify_systemd(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || (path[0] != '/' && path[0] != '@')) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  size_t len = std::strlen(path);
  if (len >= sizeof(addr.sun_path)) return;
  std::memcpy(addr.sun_path, path, len);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // the abstract namespace
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
           static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len));
  ::close(fd);
}

}  // namespace ballast::core
