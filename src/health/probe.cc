#include "health/probe.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/sockets.h"

namespace ballast::health {

namespace {
constexpr size_t kMaxStatusLine = 1024;
}

bool status_matches(const std::vector<std::pair<int, int>>& matcher, int status) {
  for (const auto& [lo, hi] : matcher) {
    if (status >= lo && status <= hi) return true;
  }
  return false;
}

Probe::Probe(core::EventLoop& loop, const config::HealthCheckConfig& check,
             const core::SocketAddress& address, std::string host_header, Done done)
    : loop_(loop), check_(check), address_(address), done_(std::move(done)) {
  if (check.protocol == config::HealthCheckConfig::Protocol::kHttp) {
    request_ = check.method + " " + check.path + " HTTP/1.1\r\nHost: " + host_header +
               "\r\nUser-Agent: ballast-health-check\r\nConnection: close\r\n\r\n";
  }
}

Probe::~Probe() {
  timer_.cancel();
  if (fd_ >= 0) {
    loop_.remove(fd_);
    ::close(fd_);
  }
}

void Probe::start() {
  loop_.timers().arm(timer_, check_.timeout_ms, loop_.now_ms());
  fd_ = core::connect_tcp(address_);
  if (fd_ < 0) {
    finish(false,
           errno == ECONNREFUSED ? HealthReason::kConnectRefused : HealthReason::kConnectFailed,
           std::string("connect: ") + strerror(errno));
    return;
  }
  loop_.add(fd_, this);
}

void Probe::on_timeout(void* self) {
  auto* p = static_cast<Probe*>(self);
  p->finish(false, HealthReason::kTimeout,
            p->connected_ ? "no response within the timeout" : "no connection within the timeout");
}

void Probe::on_io(uint32_t events) {
  if (finished_) return;
  if (!connected_) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    if (int err = core::socket_error(fd_); err != 0) {
      finish(false,
             err == ECONNREFUSED ? HealthReason::kConnectRefused : HealthReason::kConnectFailed,
             std::string("connect: ") + strerror(err));
      return;
    }
    on_connected();
    if (finished_) return;
  }
  send_request();
  if (finished_) return;
  // Through TLS any event may move the handshake along: read whatever the event.
  if (tls_ || (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) read_status();
}

void Probe::send_request() {
  while (sent_ < request_.size()) {
    core::IoResult r = transmit(request_.data() + sent_, request_.size() - sent_);
    if (r.state == core::IoState::kOk) {
      sent_ += r.bytes;
      continue;
    }
    if (r.state == core::IoState::kFailed || r.state == core::IoState::kClosed) {
      std::string why =
          tls_ ? "TLS: " + tls_->failure_reason() : std::string("send: ") + strerror(errno);
      finish(false, HealthReason::kConnectFailed, why);
    }
    return;
  }
}

core::IoResult Probe::receive(char* buf, size_t len) {
  return tls_ ? tls_->read(buf, len) : core::receive_some(fd_, buf, len);
}

core::IoResult Probe::transmit(const char* buf, size_t len) {
  return tls_ ? tls_->write(buf, len) : core::send_some(fd_, buf, len);
}

void Probe::on_connected() {
  connected_ = true;
  if (check_.protocol == config::HealthCheckConfig::Protocol::kTcp) {
    finish(true, HealthReason::kNone, "connected");
    return;
  }
  if (check_.tls) tls_ = std::make_unique<tls::Stream>(check_.tls, fd_, check_.tls_server_name);
}

void Probe::read_status() {
  char buf[2048];
  while (!finished_) {
    core::IoResult r = receive(buf, sizeof(buf));
    if (r.state == core::IoState::kWantRead || r.state == core::IoState::kWantWrite) return;
    if (r.state == core::IoState::kFailed && tls_ && response_.empty()) {
      finish(false, HealthReason::kConnectFailed, "TLS: " + tls_->failure_reason());
      return;
    }
    long n = r.state == core::IoState::kOk ? static_cast<long>(r.bytes) : 0;
    if (n > 0) response_.append(buf, static_cast<size_t>(n));
    size_t eol = response_.find("\r\n");
    if (eol == std::string::npos && n > 0 && response_.size() <= kMaxStatusLine) continue;
    // "HTTP/1.1 200 OK": a version, a space, three digits.
    bool valid =
        eol != std::string::npos && eol >= 12 &&
        (response_.compare(0, 9, "HTTP/1.1 ") == 0 || response_.compare(0, 9, "HTTP/1.0 ") == 0) &&
        isdigit(static_cast<unsigned char>(response_[9])) &&
        isdigit(static_cast<unsigned char>(response_[10])) &&
        isdigit(static_cast<unsigned char>(response_[11]));
    if (!valid) {
      finish(false,
             n == 0 && response_.empty() ? HealthReason::kConnectFailed
                                         : HealthReason::kInvalidResponse,
             n == 0 && response_.empty() ? "connection closed without a response"
                                         : "not an HTTP/1 status line");
      return;
    }
    int status = std::stoi(response_.substr(9, 3));
    bool passed = status_matches(check_.matcher, status);
    finish(passed, passed ? HealthReason::kNone : HealthReason::kStatus,
           "status " + std::to_string(status));
    return;
  }
}

void Probe::cancel() {
  finished_ = true;
  timer_.cancel();
  tls_.reset();
  if (fd_ >= 0) {
    loop_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
  }
}

void Probe::finish(bool passed, HealthReason reason, std::string detail) {
  if (finished_) return;
  cancel();
  done_(passed, reason, detail);
}

}  // namespace ballast::health
