#include "http/http_call.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/sockets.h"

namespace ballast::http {

HttpCall::HttpCall(core::EventLoop& loop, HttpCallRequest r, int64_t timeout_ms, Done done,
                   size_t max_body)
    : loop_(loop),
      address_(r.address),
      tls_context_(std::move(r.tls)),
      timeout_ms_(timeout_ms),
      done_(std::move(done)),
      max_body_(max_body) {
  request_ = r.method + " " + r.path + " HTTP/1.1\r\nHost: " + r.host +
             "\r\nUser-Agent: " + r.user_agent + "\r\nConnection: close\r\n";
  if (!r.content_type.empty()) request_ += "Content-Type: " + r.content_type + "\r\n";
  request_ += r.extra_headers;
  // The server's name: the Host header without its port ("[::1]:2379" keeps its brackets
  // off: an address is no name to check a certificate for, and OpenSSL takes it as IP).
  server_name_ = r.host;
  if (!server_name_.empty() && server_name_.front() == '[') {
    server_name_ = server_name_.substr(1, server_name_.find(']') - 1);
  } else if (size_t colon = server_name_.rfind(':'); colon != std::string::npos) {
    server_name_.resize(colon);
  }
  if (!r.body.empty() || r.method == "POST" || r.method == "PUT") {
    request_ += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  }
  request_ += "\r\n" + r.body;
}

HttpCall::~HttpCall() {
  close_socket();
}

void HttpCall::start() {
  fd_ = core::connect_tcp(address_);
  if (fd_ < 0) {
    // Reported from the loop, not inside start(): the owner is still setting up.
    connect_error_ = std::string("connect: ") + strerror(errno);
    loop_.timers().arm(timer_, 0, loop_.now_ms());
    return;
  }
  if (tls_context_) tls_ = std::make_unique<tls::Stream>(tls_context_, fd_, server_name_);
  loop_.add(fd_, this);
  loop_.timers().arm(timer_, timeout_ms_, loop_.now_ms());
}

core::IoResult HttpCall::write_some(const char* data, size_t n) {
  if (tls_) return tls_->write(data, n);
  ssize_t sent = ::send(fd_, data, n, MSG_NOSIGNAL);
  if (sent > 0) return {core::IoState::kOk, static_cast<size_t>(sent)};
  if (sent < 0 && (errno == EAGAIN || errno == EINTR)) return {core::IoState::kWantWrite};
  return {core::IoState::kFailed};
}

core::IoResult HttpCall::read_some(char* buf, size_t n) {
  if (tls_) return tls_->read(buf, n);
  ssize_t got = ::recv(fd_, buf, n, 0);
  if (got > 0) return {core::IoState::kOk, static_cast<size_t>(got)};
  if (got < 0 && (errno == EAGAIN || errno == EINTR)) return {core::IoState::kWantRead};
  if (got == 0) return {core::IoState::kClosed};
  return {core::IoState::kFailed};
}

std::string HttpCall::tls_failure() const {
  return tls_ ? "TLS: " + tls_->failure_reason() : std::string(strerror(errno));
}

void HttpCall::on_io(uint32_t events) {
  if (fd_ < 0 || finished_) return;
  if (events & EPOLLERR) {
    int err = core::socket_error(fd_);
    return finish({false, 0, "", std::string("connect: ") + strerror(err != 0 ? err : ECONNRESET)});
  }
  // Each event retries both directions: through TLS, a write may wait on a read (the
  // handshake) and a read on a write.
  while (sent_ < request_.size()) {
    core::IoResult w = write_some(request_.data() + sent_, request_.size() - sent_);
    if (w.state == core::IoState::kOk) {
      sent_ += w.bytes;
      continue;
    }
    if (w.state == core::IoState::kWantRead || w.state == core::IoState::kWantWrite) return;
    return finish({false, 0, "", "send: " + tls_failure()});
  }
  char buf[16384];
  while (true) {
    core::IoResult r = read_some(buf, sizeof(buf));
    if (r.state == core::IoState::kOk) {
      in_.append(buf, r.bytes);
      parse();
      if (finished_) return;
      continue;
    }
    if (r.state == core::IoState::kWantRead || r.state == core::IoState::kWantWrite) return;
    if (r.state == core::IoState::kFailed && !head_done_) {
      return finish({false, 0, "", "recv: " + tls_failure()});
    }
    // Closed (or reset): a body that runs until close ends here; anything else is cut.
    bool ended = head_done_ && parser_.finish().status == MessageParser::Status::kMessageComplete;
    if (ended || complete_) return finish(std::move(result_));
    return finish({false, 0, "", head_done_ ? "the response was cut short" : "no HTTP response"});
  }
}

void HttpCall::parse() {
  if (!head_done_) {
    ScanStatus st = scanner_.scan(in_);
    if (st == ScanStatus::kNeedMore) return;
    if (st != ScanStatus::kComplete) return finish({false, 0, "", "invalid HTTP response"});
    head_done_ = true;
  }
  auto r = parser_.execute(in_.data(), in_.size());
  if (r.status == MessageParser::Status::kError) {
    return finish({false, 0, "", "invalid HTTP response: " + parser_.error_reason()});
  }
  in_.erase(0, r.consumed);
  if (complete_) finish(std::move(result_));
}

int HttpCall::on_head(MessageHead& head) {
  result_.answered = true;
  result_.status = head.status;
  if (chunk_ && head.status == 200) {
    streaming_ = true;
    timer_.cancel();
  }
  return 0;
}

void HttpCall::on_body(const char* data, size_t length) {
  if (streaming_) {
    chunk_(std::string_view(data, length));
    return;
  }
  // Past the limit the body is read and dropped.
  size_t room = max_body_ - std::min(max_body_, result_.body.size());
  result_.body.append(data, std::min(room, length));
}

void HttpCall::on_timeout(void* self) {
  auto* c = static_cast<HttpCall*>(self);
  if (!c->connect_error_.empty()) return c->finish({false, 0, "", c->connect_error_});
  c->finish({false, 0, "", "no answer within " + std::to_string(c->timeout_ms_) + "ms"});
}

void HttpCall::finish(HttpCallResult result) {
  if (finished_) return;
  finished_ = true;
  close_socket();
  Done done = std::move(done_);
  done(result);  // may retire this object; nothing after
}

void HttpCall::abandon() {
  finished_ = true;
  done_ = nullptr;
  close_socket();
}

void retire(core::EventLoop& loop, std::unique_ptr<HttpCall> call) {
  if (!call) return;
  call->abandon();
  loop.defer_delete([raw = call.release()] { delete raw; });
}

void HttpCall::close_socket() {
  timer_.cancel();
  if (fd_ >= 0) {
    loop_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace ballast::http
