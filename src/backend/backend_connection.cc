#include "backend/backend_connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "backend/query.h"
#include "http/headers.h"
#include "http/status.h"

namespace ballast::backend {

namespace {
constexpr http::HeadLimits kLimits{};
constexpr size_t kMaxQueued = 64 * 1024;
constexpr size_t kEchoBodyLimit = 1 << 20;

// Busy-loops on the CPU for `ms` milliseconds: the "application work" of the demo.
void burn_cpu(uint64_t ms) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  volatile uint64_t sink = 0;
  while (std::chrono::steady_clock::now() < end) {
    for (int i = 0; i < 1000; ++i) sink = sink * 6364136223846793005ull + 1442695040888963407ull;
  }
}

std::string_view path_only(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

bool parse_tail_number(std::string_view path, std::string_view prefix, uint64_t* out) {
  if (!path.starts_with(prefix)) return false;
  std::string_view digits = path.substr(prefix.size());
  if (digits.empty() || digits.size() > 19) return false;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}
}  // namespace

void ConnectionList::add(BackendConnection* c) {
  c->next = head_;
  if (head_ != nullptr) head_->prev = c;
  head_ = c;
}

void ConnectionList::remove(BackendConnection* c) {
  if (c->prev != nullptr)
    c->prev->next = c->next;
  else
    head_ = c->next;
  if (c->next != nullptr) c->next->prev = c->prev;
  c->prev = c->next = nullptr;
}

void ConnectionList::close_all() {
  while (head_ != nullptr) head_->close();
}

BackendConnection::BackendConnection(core::EventLoop& loop, core::BufferPool& pool,
                                     BackendState& state, int fd, ConnectionList& list)
    : loop_(loop),
      state_(state),
      fd_(fd),
      list_(list),
      in_(&pool),
      out_(&pool),
      scanner_(kLimits),
      parser_(http::MessageParser::Kind::kRequest, kLimits, this),
      sleep_timer_(&BackendConnection::on_sleep_done, this),
      block_timer_(&BackendConnection::on_block_done, this) {
  list_.add(this);
}

BackendConnection::~BackendConnection() {
  if (fd_ >= 0) ::close(fd_);
}

void BackendConnection::start() {
  loop_.add(fd_, this);
  drive();
}

void BackendConnection::close() {
  if (closed_) return;
  closed_ = true;
  sleep_timer_.cancel();
  block_timer_.cancel();
  block_claim_.reset();
  alive_.reset();
  loop_.remove(fd_);
  ::close(fd_);
  fd_ = -1;
  list_.remove(this);
  loop_.defer_delete([this] { delete this; });
}

void BackendConnection::on_io(uint32_t events) {
  if (closed_) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readable_ = true;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) hangup_ = true;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) writable_ = true;
  drive();
}

void BackendConnection::drive() {
  // Yields after a fixed number of passes so one fast stream cannot starve the other
  // connections, and resumes right after them (no new edge-triggered event would come).
  constexpr int kPassesPerTurn = 64;
  for (int pass = 0; !closed_; ++pass) {
    if (pass == kPassesPerTurn) {
      loop_.resume_soon(this);
      return;
    }
    bool progress = false;
    progress |= read_some();
    progress |= parse_some();
    progress |= generate_some();
    progress |= flush_some();
    if (!progress) break;
  }
}

bool BackendConnection::read_some() {
  if (!readable_ || eof_ || closed_) return false;
  // Stop reading while answering (pipelined requests wait) unless a body is arriving.
  if (responding_ && request_done_) return false;
  if (in_.has_memory() && in_.tail_room() == 0 && in_.free_space() == 0 && !reading_head_)
    return false;
  in_.ensure_tail_room(in_.has_memory() ? 4096 : core::BufferPool::kBlockSize);
  size_t room = in_.tail_room();
  ssize_t n = ::recv(fd_, in_.write_ptr(), room, 0);
  if (n > 0) {
    in_.commit(static_cast<size_t>(n));
    if (static_cast<size_t>(n) < room && !hangup_) readable_ = false;
    return true;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    readable_ = false;
    return false;
  }
  eof_ = true;
  if (!responding_ && out_.empty())
    close();
  else
    close_after_ = true;
  return true;
}

bool BackendConnection::parse_some() {
  if (in_.empty() || closed_ || request_done_) return false;
  size_t feed = in_.size();
  if (reading_head_) {
    http::ScanStatus st = scanner_.scan(in_.view());
    if (st == http::ScanStatus::kNeedMore) return false;
    if (st != http::ScanStatus::kComplete) {
      keep_alive_ = false;
      request_done_ = true;
      respond(400, "text/plain", "bad request\n");
      return true;
    }
    reading_head_ = false;
  }
  http::MessageParser::Result r = parser_.execute(in_.data(), feed);
  if (r.status == http::MessageParser::Status::kError) {
    keep_alive_ = false;
    request_done_ = true;
    std::string body = std::to_string(parser_.error_status()) + " " + parser_.error_reason() + "\n";
    respond(parser_.error_status(), "text/plain", body);
    return true;
  }
  in_.consume(r.consumed);
  if (r.status == http::MessageParser::Status::kMessageComplete) {
    parser_.next_message();
    scanner_.reset();
    request_done_ = true;
    route();
  }
  return true;
}

int BackendConnection::on_head(http::MessageHead& head) {
  method_.assign(head.method);
  target_.assign(head.target);
  keep_alive_ = head.keep_alive;
  body_bytes_ = 0;
  echo_.clear();
  if (path_only(target_) == "/echo") {
    echo_.append(head.method).append(" ").append(head.target);
    echo_.append(" HTTP/").append(std::to_string(head.version_major)).append(".");
    echo_.append(std::to_string(head.version_minor)).append("\n");
    for (const auto& h : head.headers)
      echo_.append(h.name).append(": ").append(h.value).append("\n");
  }
  return 0;
}

void BackendConnection::on_body(const char* data, size_t n) {
  body_bytes_ += n;
  if (!echo_.empty() && echo_.size() < kEchoBodyLimit) {
    if (body_bytes_ == n) echo_.append("\n");
    echo_.append(data, std::min(n, kEchoBodyLimit - echo_.size()));
  }
}

void BackendConnection::on_message_complete() {}

void BackendConnection::route() {
  responding_ = true;
  std::string_view path = path_only(target_);
  uint64_t n = 0;
  if (path == "/health") {
    if (state_.healthy.load())
      respond(200, "text/plain", "ok\n");
    else
      respond(503, "text/plain", "unhealthy (switched off by /control/health)\n");
  } else if (path == "/control/health") {
    auto ok = query_param(target_, "ok");
    if (method_ != "POST" || !ok || (*ok != "true" && *ok != "false")) {
      respond(400, "text/plain", "use POST /control/health?ok=true|false\n");
    } else {
      state_.healthy.store(*ok == "true");
      respond(200, "text/plain", *ok == "true" ? "health: ok\n" : "health: failing\n");
    }
  } else if (path == "/work") {
    uint64_t ms = query_number(target_, "cpu_ms").value_or(10);
    burn_cpu(std::min<uint64_t>(ms, 60000));
    respond(200, "text/plain", "worked " + std::to_string(ms) + "ms\n");
  } else if (path == "/block") {
    // Holds one of the instance's serving slots for `ms`, like a synchronous app server's
    // thread waiting on its database: at most `threads` x 1000 / ms of these a second, the
    // rest queue first come first served (ServingSlots).
    uint64_t ms = std::min<uint64_t>(query_number(target_, "ms").value_or(20), 10000);
    std::weak_ptr<char> alive = alive_;
    block_claim_ = state_.slots->claim(loop_, [this, alive, ms] {
      if (alive.expired()) return;  // closed meanwhile: its claim gave the slot back
      loop_.timers().arm(block_timer_, static_cast<int64_t>(ms), loop_.now_ms());
    });
  } else if (path == "/sleep") {
    uint64_t ms = std::min<uint64_t>(query_number(target_, "ms").value_or(100), 3600000);
    loop_.timers().arm(sleep_timer_, static_cast<int64_t>(ms), loop_.now_ms());
  } else if (parse_tail_number(path, "/status/", &n) && n >= 100 && n <= 599) {
    respond(static_cast<int>(n), "text/plain",
            std::to_string(n) + " " + std::string(http::reason_phrase(static_cast<int>(n))) + "\n");
  } else if (parse_tail_number(path, "/bytes/", &n)) {
    auto mode = query_param(target_, "mode").value_or("length");
    start_stream(n, mode == "chunked" ? Stream::kChunked
                    : mode == "close" ? Stream::kUntilClose
                                      : Stream::kLength);
  } else if (path == "/echo") {
    respond(200, "text/plain", echo_);
  } else if (path == "/upload") {
    respond(200, "text/plain", "received " + std::to_string(body_bytes_) + " bytes\n");
  } else if (path == "/") {
    respond(200, "text/plain", "ballast demo backend " + state_.instance_id + "\n");
  } else {
    respond(404, "text/plain",
            "no such endpoint; try /health /work /block /sleep /status/N /bytes/N /echo /upload\n");
  }
}

void BackendConnection::on_block_done(void* self) {
  auto* c = static_cast<BackendConnection*>(self);
  c->block_claim_.reset();  // the slot goes to the next request waiting for one
  uint64_t ms = query_number(c->target_, "ms").value_or(20);
  c->respond(200, "text/plain",
             "blocked " + std::to_string(std::min<uint64_t>(ms, 10000)) + "ms\n");
  c->drive();
}

void BackendConnection::on_sleep_done(void* self) {
  auto* c = static_cast<BackendConnection*>(self);
  uint64_t ms = query_number(c->target_, "ms").value_or(100);
  c->respond(200, "text/plain", "slept " + std::to_string(ms) + "ms\n");
  c->drive();
}

void BackendConnection::write_head(int status, std::string_view content_type,
                                   const uint64_t* content_length, bool chunked) {
  out_.append("HTTP/1.1 ");
  out_.append_decimal(static_cast<uint64_t>(status));
  out_.append_char(' ');
  out_.append(http::reason_phrase(status));
  out_.append("\r\nContent-Type: ");
  out_.append(content_type);
  out_.append("\r\nX-Ballast-Instance: ");
  out_.append(state_.instance_id);
  if (content_length != nullptr) {
    out_.append("\r\nContent-Length: ");
    out_.append_decimal(*content_length);
  }
  if (chunked) out_.append("\r\nTransfer-Encoding: chunked");
  if (!keep_alive_) out_.append("\r\nConnection: close");
  out_.append("\r\n\r\n");
}

void BackendConnection::respond(int status, std::string_view content_type, std::string_view body) {
  // 1xx, 204 and 304 responses never have a body (RFC 9110 6.4.1).
  bool bodiless = status < 200 || status == 204 || status == 304;
  uint64_t length = body.size();
  write_head(status, content_type, bodiless ? nullptr : &length, false);
  if (method_ != "HEAD" && !bodiless) out_.append(body);
  finish_response();
}

void BackendConnection::start_stream(uint64_t bytes, Stream mode) {
  if (mode == Stream::kUntilClose) keep_alive_ = false;
  write_head(200, "application/octet-stream", mode == Stream::kLength ? &bytes : nullptr,
             mode == Stream::kChunked);
  stream_ = method_ == "HEAD" ? Stream::kNone : mode;
  stream_remaining_ = bytes;
  if (stream_ == Stream::kNone) finish_response();
}

bool BackendConnection::generate_some() {
  if (stream_ == Stream::kNone || closed_) return false;
  static const std::string kPattern = [] {
    std::string s(16384, 'x');
    for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>('a' + i % 26);
    return s;
  }();
  bool progress = false;
  while (out_.size() < kMaxQueued && stream_remaining_ > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(stream_remaining_, kPattern.size()));
    if (stream_ == Stream::kChunked) {
      out_.append_hex(n);
      out_.append("\r\n");
    }
    out_.append(kPattern.data(), n);
    if (stream_ == Stream::kChunked) out_.append("\r\n");
    stream_remaining_ -= n;
    progress = true;
  }
  if (stream_remaining_ == 0) {
    if (stream_ == Stream::kChunked) out_.append("0\r\n\r\n");
    stream_ = Stream::kNone;
    finish_response();
    progress = true;
  }
  return progress;
}

void BackendConnection::finish_response() {
  if (!keep_alive_) close_after_ = true;
  responding_ = false;
  request_done_ = false;
  reading_head_ = true;
}

bool BackendConnection::flush_some() {
  if (closed_) return false;
  if (out_.empty()) {
    if (close_after_ && !responding_ && stream_ == Stream::kNone) close();
    return false;
  }
  if (!writable_) return false;
  ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
  if (n > 0) {
    if (static_cast<size_t>(n) < out_.size()) writable_ = false;
    out_.consume(static_cast<size_t>(n));
    return true;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    writable_ = false;
    return false;
  }
  close();
  return true;
}

}  // namespace ballast::backend
