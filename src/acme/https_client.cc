#include "acme/https_client.h"

#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/clock.h"
#include "core/socket_address.h"
#include "core/sockets.h"
#include "http/head_scanner.h"
#include "http/headers.h"
#include "http/message_parser.h"
#include "tls/tls_stream.h"

namespace ballast::acme {

namespace {

constexpr size_t kMaxBody = 1 << 20;  // certificates and JSON: tens of KiB at most

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Collects a response as the parser reads it.
class ResponseSink final : public http::MessageSink {
 public:
  explicit ResponseSink(HttpsResponse* out) : out_(out) {}
  int on_head(http::MessageHead& head) override {
    out_->status = head.status;
    for (const auto& h : head.headers) out_->headers.emplace_back(h.name, h.value);
    return 0;
  }
  void on_body(const char* data, size_t n) override {
    // Told after the parser returns: no exception may cross llhttp's C frames.
    too_large = too_large || out_->body.size() + n > kMaxBody;
    if (!too_large) out_->body.append(data, n);
  }
  void on_message_complete() override { complete = true; }
  bool complete = false;
  bool too_large = false;

 private:
  HttpsResponse* out_;
};

// Waits for `fd` to be ready for `events`; false at the deadline. Throws when stopping.
bool wait_for(int fd, short events, int64_t deadline, int stop_fd) {
  int64_t left = deadline - core::monotonic_ms();
  if (left <= 0) return false;
  pollfd fds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
  int n = ::poll(fds, stop_fd >= 0 ? 2 : 1, static_cast<int>(left));
  if (n < 0 && errno != EINTR) throw Error(std::string("poll: ") + strerror(errno));
  if (stop_fd >= 0 && (fds[1].revents & POLLIN)) throw Error("stopping");
  return n > 0;
}

// A connected socket to one of the host's addresses, tried in the resolver's order (a
// "localhost" that resolves to ::1 first still reaches a server on 127.0.0.1 only).
int connect_any(const Url& url, int64_t deadline, int stop_fd) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(url.port);
  int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    throw Error("cannot resolve \"" + url.host + "\": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> all(found, ::freeaddrinfo);
  std::string failures;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    auto address = core::SocketAddress::from_sockaddr(a->ai_addr, a->ai_addrlen);
    int fd = core::connect_tcp(address);
    int err = fd < 0 ? errno : 0;
    if (fd >= 0) {
      err = wait_for(fd, POLLOUT, deadline, stop_fd) ? core::socket_error(fd) : ETIMEDOUT;
      if (err == 0) return fd;
      ::close(fd);
    }
    failures += (failures.empty() ? "" : ", ") + address.to_string() + ": " + strerror(err);
  }
  throw Error("connect to " + url.authority() + ": " + failures);
}

}  // namespace

Url Url::parse(const std::string& text) {
  constexpr std::string_view kScheme = "https://";
  if (text.rfind(kScheme, 0) != 0) throw Error("\"" + text + "\" is not an https:// URL");
  std::string rest = text.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  Url url;
  if (slash != std::string::npos) url.path = rest.substr(slash);
  size_t colon = authority.rfind(':');
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) throw Error("\"" + text + "\": unclosed [ in the host");
    url.host = authority.substr(1, close - 1);
    colon = authority.find(':', close);
  } else {
    url.host = authority.substr(0, colon);
  }
  if (colon != std::string::npos) {
    std::string port = authority.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      throw Error("\"" + text + "\": bad port \"" + port + "\"");
    }
    url.port = static_cast<uint16_t>(value);
  }
  if (url.host.empty()) throw Error("\"" + text + "\" names no host");
  return url;
}

std::string Url::authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return port == 443 ? h : h + ":" + std::to_string(port);
}

std::string HttpsResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (http::iequals(n, name)) return v;
  }
  return {};
}

HttpsClient::HttpsClient(std::shared_ptr<const tls::ClientContext> tls, int stop_fd,
                         int64_t timeout_ms)
    : tls_(std::move(tls)), stop_fd_(stop_fd), timeout_ms_(timeout_ms) {}

HttpsResponse HttpsClient::get(const std::string& url) {
  return exchange("GET", url, "", "");
}

HttpsResponse HttpsClient::post(const std::string& url, const std::string& content_type,
                                const std::string& body) {
  return exchange("POST", url, content_type, body);
}

HttpsResponse HttpsClient::exchange(const std::string& method, const std::string& text,
                                    const std::string& content_type, const std::string& body) {
  Url url = Url::parse(text);
  const int64_t deadline = core::monotonic_ms() + timeout_ms_;
  Socket socket(connect_any(url, deadline, stop_fd_));
  tls::Stream stream(tls_, socket.fd(), url.host);

  std::string request = method + " " + url.path + " HTTP/1.1\r\nHost: " + url.authority() +
                        "\r\nUser-Agent: ballast-acme\r\nAccept: */*\r\nConnection: close\r\n";
  if (!content_type.empty()) request += "Content-Type: " + content_type + "\r\n";
  if (method == "POST") request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n" + body;

  // Waits until the socket is ready as `state` asks, the deadline passes, or stop.
  auto wait = [&](core::IoState state) {
    short events = state == core::IoState::kWantRead ? POLLIN : POLLOUT;
    if (!wait_for(socket.fd(), events, deadline, stop_fd_)) {
      throw Error(method + " " + text + ": no answer within " + std::to_string(timeout_ms_) + "ms");
    }
  };

  // The handshake happens inside the first write.
  size_t sent = 0;
  while (sent < request.size()) {
    core::IoResult r = stream.write(request.data() + sent, request.size() - sent);
    if (r.state == core::IoState::kOk) {
      sent += r.bytes;
    } else if (r.state == core::IoState::kWantRead || r.state == core::IoState::kWantWrite) {
      wait(r.state);
    } else {
      std::string why = stream.verify_error();
      if (why.empty()) why = stream.failure();
      throw Error(method + " " + text + ": " + (why.empty() ? "connection failed" : why));
    }
  }

  HttpsResponse response;
  ResponseSink sink(&response);
  http::HeadScanner scanner{http::HeadLimits{}};
  http::MessageParser parser(http::MessageParser::Kind::kResponse, http::HeadLimits{}, &sink);
  std::string in;
  bool head_done = false;
  char buf[16384];
  while (!sink.complete) {
    core::IoResult r = stream.read(buf, sizeof(buf));
    if (r.state == core::IoState::kWantRead || r.state == core::IoState::kWantWrite) {
      wait(r.state);
      continue;
    }
    if (r.state == core::IoState::kOk) {
      in.append(buf, r.bytes);
      if (!head_done) {
        http::ScanStatus st = scanner.scan(in);
        if (st == http::ScanStatus::kNeedMore) continue;
        if (st != http::ScanStatus::kComplete) throw Error(text + ": invalid HTTP response");
        head_done = true;
      }
      auto result = parser.execute(in.data(), in.size());
      if (result.status == http::MessageParser::Status::kError) {
        throw Error(text + ": invalid HTTP response: " + parser.error_reason());
      }
      if (sink.too_large) throw Error(text + ": the answer is larger than 1 MiB");
      in.erase(0, result.consumed);
      continue;
    }
    // Closed: a body that runs until close ends here; anything else was cut.
    if (head_done && parser.finish().status == http::MessageParser::Status::kMessageComplete) break;
    throw Error(method + " " + text + ": " +
                (head_done ? "the response was cut short" : "connection closed without an answer"));
  }
  return response;
}

}  // namespace ballast::acme
