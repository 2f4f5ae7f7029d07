#include "support/recording_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "core/thread_annotations.h"

namespace ballast::test {

RecordingServer::RecordingServer(Responder responder, bool close_after_response)
    : responder_(std::move(responder)), close_after_response_(close_after_response) {
  if (!responder_) {
    responder_ = [](const std::string&) {
      return std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    };
  }
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  listen(listen_fd_, 128);
  socklen_t len = sizeof(addr);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

RecordingServer::~RecordingServer() {
  stop_ = true;
  acceptor_.join();
  close(listen_fd_);
  std::vector<std::thread> threads;
  {
    core::MutexLock lock(mu_);
    for (int fd : client_fds_) shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

std::string RecordingServer::received() const {
  core::MutexLock lock(mu_);
  return received_;
}

void RecordingServer::accept_loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    connections_++;
    core::MutexLock lock(mu_);
    client_fds_.push_back(fd);
    threads_.emplace_back([this, fd] { serve(fd); });
  }
}

void RecordingServer::serve(int fd) {
  std::string pending;
  char tmp[65536];
  bool open = true;
  while (open && !stop_) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) break;
    {
      core::MutexLock lock(mu_);
      received_.append(tmp, static_cast<size_t>(n));
    }
    pending.append(tmp, static_cast<size_t>(n));
    // Answer every complete request (a body, if any, is announced by Content-Length).
    while (open) {
      size_t end = pending.find("\r\n\r\n");
      if (end == std::string::npos) break;
      std::string head = pending.substr(0, end + 4);
      std::string lower = head;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      size_t body = 0;
      size_t cl = lower.find("\r\ncontent-length:");
      if (cl != std::string::npos) body = std::stoul(lower.substr(cl + 17));
      if (pending.size() < head.size() + body) break;
      pending.erase(0, head.size() + body);
      requests_++;
      std::string response = responder_(head);
      if (response.empty()) {
        open = false;  // the script asks to close without answering
        break;
      }
      send(fd, response.data(), response.size(), MSG_NOSIGNAL);
      if (close_after_response_) open = false;
    }
  }
  core::MutexLock lock(mu_);
  client_fds_.erase(std::remove(client_fds_.begin(), client_fds_.end(), fd), client_fds_.end());
  close(fd);
}

}  // namespace ballast::test
