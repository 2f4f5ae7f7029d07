#include "support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ballast::test {

std::string Response::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

Client::Client(uint16_t port, int timeout_ms) : timeout_ms_(timeout_ms) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd_);
    fd_ = -1;
  }
}

Client::~Client() {
  if (fd_ >= 0) close(fd_);
}

bool Client::send_raw(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

bool Client::send_zeros(uint64_t size) {
  static const std::string block(1 << 16, '\0');
  while (size > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(size, block.size()));
    if (!send_raw(block.substr(0, n))) return false;
    size -= n;
  }
  return true;
}

void Client::shutdown_write() {
  shutdown(fd_, SHUT_WR);
}

bool Client::fill() {
  char tmp[65536];
  ssize_t n = recv(fd_, tmp, sizeof(tmp), 0);
  if (n <= 0) return false;
  buf_.append(tmp, static_cast<size_t>(n));
  bytes_received_ += static_cast<uint64_t>(n);
  return true;
}

bool Client::read_line(std::string* line) {
  while (true) {
    size_t pos = buf_.find("\r\n");
    if (pos != std::string::npos) {
      *line = buf_.substr(0, pos);
      buf_.erase(0, pos + 2);
      return true;
    }
    if (buf_.size() > (1 << 20) || !fill()) return false;
  }
}

std::optional<Response> Client::read_response(bool keep_body, bool head_request) {
  if (fd_ < 0) return std::nullopt;
  Response r;
  std::string line;
  while (true) {
    if (!read_line(&line)) return std::nullopt;
    if (line.size() < 12 || line.compare(0, 5, "HTTP/") != 0) return std::nullopt;
    r.version = line.substr(0, 8);
    r.status = std::stoi(line.substr(9, 3));
    r.headers.clear();
    while (true) {
      if (!read_line(&line)) return std::nullopt;
      if (line.empty()) break;
      size_t colon = line.find(':');
      if (colon == std::string::npos) return std::nullopt;
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      size_t v = line.find_first_not_of(" \t", colon + 1);
      r.headers.emplace(name, v == std::string::npos ? "" : line.substr(v));
    }
    if (r.status >= 200) break;  // skip interim responses
  }
  auto take = [&](uint64_t n) -> bool {
    while (n > 0) {
      if (buf_.empty() && !fill()) return false;
      size_t k = static_cast<size_t>(std::min<uint64_t>(n, buf_.size()));
      if (keep_body) r.body.append(buf_, 0, k);
      buf_.erase(0, k);
      r.body_length += k;
      n -= k;
    }
    return true;
  };
  if (head_request || r.status == 204 || r.status == 304) return r;
  if (r.header("transfer-encoding") == "chunked") {
    while (true) {
      if (!read_line(&line)) return std::nullopt;
      uint64_t size = std::stoull(line, nullptr, 16);
      if (size == 0) {
        if (!read_line(&line)) return std::nullopt;  // no trailers expected
        return r;
      }
      if (!take(size) || !read_line(&line)) return std::nullopt;
    }
  }
  std::string cl = r.header("content-length");
  if (!cl.empty()) {
    if (!take(std::stoull(cl))) return std::nullopt;
    return r;
  }
  // Until close.
  while (true) {
    if (!buf_.empty()) {
      if (keep_body) r.body += buf_;
      r.body_length += buf_.size();
      buf_.clear();
    }
    if (!fill()) break;
  }
  return r;
}

std::string Client::read_until_close(bool* closed) {
  *closed = false;
  std::string out = buf_;
  buf_.clear();
  char tmp[65536];
  while (true) {
    ssize_t n = recv(fd_, tmp, sizeof(tmp), 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
      *closed = true;
      break;
    }
    if (n < 0) break;  // timeout
    out.append(tmp, static_cast<size_t>(n));
  }
  return out;
}

std::optional<Response> Client::get(const std::string& path, const std::string& extra_headers) {
  if (!send_raw("GET " + path + " HTTP/1.1\r\nHost: x\r\n" + extra_headers + "\r\n")) {
    return std::nullopt;
  }
  return read_response();
}

std::optional<Response> http_get(uint16_t port, const std::string& path,
                                 const std::string& extra_headers) {
  Client c(port);
  if (!c.connected()) return std::nullopt;
  return c.get(path, extra_headers);
}

std::map<std::string, int> instances_seen(uint16_t port, int n, const std::string& extra_headers) {
  std::map<std::string, int> seen;
  Client c(port);
  for (int i = 0; i < n; ++i) {
    auto r = c.get("/", extra_headers);
    if (!r) break;
    seen[r->status == 200 ? r->header("x-ballast-instance")
                          : "status " + std::to_string(r->status)]++;
  }
  return seen;
}

}  // namespace ballast::test
