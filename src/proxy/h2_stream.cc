#include "proxy/h2_stream.h"

#include <nghttp2/nghttp2.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "http/chunked.h"
#include "http/headers.h"
#include "proxy/h2_connection.h"
#include "proxy/session.h"

namespace ballast::proxy {

namespace {
// Response body bytes a stream holds for nghttp2 (one DATA frame's worth): beyond them its
// Session is told to wait, and once its own 64 KiB queue is full it stops reading from the
// target. Within one pooled 32 KiB block.
constexpr size_t kMaxBuffered = 16 * 1024;

// 16 random bytes in base64 (RFC 6455 4.1).
std::string websocket_key() {
  unsigned char raw[16];
  RAND_bytes(raw, sizeof(raw));
  unsigned char text[32];
  int n = EVP_EncodeBlock(text, raw, sizeof(raw));
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(n));
}

}  // namespace

H2Stream::H2Stream(H2Connection& connection, int32_t id)
    : connection_(connection), id_(id), body_(&connection.buffers()) {}

H2Stream::~H2Stream() = default;

void H2Stream::start(const h2::RequestHead& head, bool end_stream, uint64_t hold_limit,
                     Session* session) {
  session_ = session;
  head_request_ = head.method == "HEAD";
  // RFC 8441: an extended CONNECT for WebSocket is the HTTP/1.1 upgrade request.
  websocket_ = head.method == "CONNECT";
  size_t estimate = head.method.size() + head.path.size() + head.authority.size() + 64;
  for (const auto& [name, value] : head.fields) estimate += name.size() + value.size() + 4;
  request_.reserve(estimate);
  request_.append(websocket_ ? std::string_view("GET") : std::string_view(head.method))
      .append(" ")
      .append(head.path)
      .append(" HTTP/1.1\r\n");
  if (!head.authority.empty()) request_.append("host: ").append(head.authority).append("\r\n");
  std::string cookie;
  for (const auto& [name, value] : head.fields) {
    if (name == "host" && !head.authority.empty()) continue;  // :authority wins (RFC 9113 8.3.1)
    if (name == "cookie") {
      // RFC 9113 8.2.3: HTTP/2 may split Cookie into fields; HTTP/1.1 wants one line.
      if (!cookie.empty()) cookie.append("; ");
      cookie.append(value);
      continue;
    }
    request_.append(name).append(": ").append(value).append("\r\n");
  }
  if (!cookie.empty()) request_.append("cookie: ").append(cookie).append("\r\n");
  if (websocket_) {
    // The key proves to the target that its client speaks WebSocket; its answer (the
    // Accept) is for ballast, as HTTP/2 has none.
    request_.append("upgrade: websocket\r\nconnection: upgrade\r\nsec-websocket-key: ")
        .append(websocket_key())
        .append("\r\n\r\n");
    request_ended_ = end_stream;
    return;
  }
  if (!end_stream && !head.has_content_length) {
    request_.append("transfer-encoding: chunked\r\n");
    chunked_ = true;
  }
  content_length_ = head.has_content_length ? head.content_length : 0;
  has_content_length_ = head.has_content_length;
  request_.append("connection: close\r\n\r\n");
  request_ended_ = end_stream;
  hold_until_end_ = !end_stream && has_content_length_ && content_length_ <= hold_limit;
}

void H2Stream::add_body(const char* data, size_t n) {
  unconsumed_body_ += n;
  body_received_ += n;
  if (websocket_) {
    request_.append(data, n);  // tunnel bytes, as they are
  } else if (chunked_) {
    http::append_chunk(request_, data, n);
  } else if (has_content_length_ && body_received_ >= content_length_) {
    // The body's last bytes wait for END_STREAM: a stream that then sends more than its
    // Content-Length is reset by nghttp2, and the target must not have seen a complete
    // request by then.
    held_back_.append(data, n);
    return;
  } else {
    request_.append(data, n);
  }
  wake_session(EPOLLIN);
}

void H2Stream::end_request() {
  request_ended_ = true;
  if (chunked_ && !websocket_) request_.append(http::kLastChunk);
  request_.append(held_back_);
  held_back_.clear();
  wake_session(EPOLLIN);
}

core::IoResult H2Stream::read_request(char* buf, size_t len) {
  if (stream_closed_) return {core::IoState::kFailed, 0};
  if (hold_until_end_ && !request_ended_) return {core::IoState::kWantRead, 0};
  size_t available = request_.size() - request_read_;
  if (available == 0) {
    // A tunnel's client ended its side: the Session passes the end on as HTTP/1.1 would.
    if (websocket_ && request_ended_) return {core::IoState::kClosed, 0};
    return {core::IoState::kWantRead, 0};
  }
  size_t n = std::min(len, available);
  std::memcpy(buf, request_.data() + request_read_, n);
  request_read_ += n;
  if (request_read_ == request_.size()) {
    request_.clear();
    request_read_ = 0;
  }
  // The Session took body bytes: the client may send as many more.
  size_t credit = std::min(unconsumed_body_, n);
  if (credit > 0) {
    unconsumed_body_ -= credit;
    connection_.frames().consumed(id_, credit);
    connection_.flush_soon();
  }
  return {core::IoState::kOk, n};
}

core::IoResult H2Stream::write_response(const char* buf, size_t len) {
  if (stream_closed_) return {core::IoState::kFailed, 0};
  std::string_view in(buf, len);
  size_t used = 0;
  while (response_ == Response::kAwaitingHead && used < in.size()) {
    size_t end = in.find("\r\n\r\n", used);
    if (end == std::string_view::npos) {
      partial_head_.append(in.substr(used));
      return {core::IoState::kOk, len};
    }
    std::string_view head = in.substr(used, end + 4 - used);
    used = end + 4;
    if (!partial_head_.empty()) {
      partial_head_.append(head);
      on_head(partial_head_);
      partial_head_.clear();
    } else {
      on_head(head);
    }
  }
  if (response_ != Response::kBody && response_ != Response::kTunnel)
    return {core::IoState::kOk, len};  // nothing may follow a head without a body
  if (used == len) return {core::IoState::kOk, len};
  core::IoResult body = write_body(buf + used, len - used);
  if (used == 0) return body;
  return {core::IoState::kOk, used + body.bytes};
}

core::IoResult H2Stream::write_body(const char* buf, size_t len) {
  size_t n = std::min(len, kMaxBuffered - std::min(kMaxBuffered, body_.size()));
  if (n == 0) {
    waiting_for_window_ = true;  // read_body() wakes the Session
    return {core::IoState::kWantWrite, 0};
  }
  body_.append(buf, n);
  if (n < len) waiting_for_window_ = true;
  connection_.frames().resume_body(id_);
  connection_.flush_soon();
  return {core::IoState::kOk, n};
}

void H2Stream::on_head(std::string_view head) {
  // "HTTP/1.1 200 OK\r\n", then "Name: value\r\n" lines: the Session's own writing.
  int status = 0;
  if (head.size() > 12) {
    std::from_chars(head.data() + 9, head.data() + 12, status);
  }
  bool tunnel = status == 101 && websocket_;
  if (status < 200 && !tunnel) return;  // 1xx: not passed on (HTTP/2 clients need no 100)
  // Names in lower case (RFC 9113 8.2.1), all in one buffer sized up front so that the
  // views into it stay put; values are views into the head.
  std::string names;
  names.reserve(head.size());
  h2::Fields fields;
  fields.reserve(16);
  size_t at = head.find("\r\n") + 2;
  while (at + 2 < head.size()) {
    size_t eol = head.find("\r\n", at);
    std::string_view line = head.substr(at, eol - at);
    at = eol + 2;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon);
    std::string_view value = http::trim_ows(line.substr(colon + 1));
    // Connection-specific fields have no place in HTTP/2 (RFC 9113 8.2.2); a WebSocket's
    // Sec-WebSocket-Accept answered ballast's key.
    if (http::is_hop_by_hop(name, "") || (tunnel && http::iequals(name, "sec-websocket-accept")))
      continue;
    size_t start = names.size();
    for (char c : name) names.push_back(http::ascii_lower(c));
    fields.emplace_back(std::string_view(names).substr(start, name.size()), value);
  }
  if (tunnel) {
    // The target took the upgrade: the client's CONNECT succeeds (RFC 8441 5), and bytes
    // flow as DATA both ways.
    response_ = Response::kTunnel;
    connection_.frames().submit_response(id_, 200, fields, true);
  } else {
    bool has_body = !head_request_ && status != 204 && status != 304;
    response_ = has_body ? Response::kBody : Response::kComplete;
    connection_.frames().submit_response(id_, status, fields, has_body);
  }
  connection_.flush_soon();
}

size_t H2Stream::read_body(char* buf, size_t len, bool* end) {
  size_t n = std::min(len, body_.size());
  if (n > 0) {
    std::memcpy(buf, body_.data(), n);
    body_.consume(n);
  }
  *end = response_ == Response::kComplete && body_.empty();
  if (body_.empty()) body_.release();
  if (waiting_for_window_ && body_.size() < kMaxBuffered / 2) {
    waiting_for_window_ = false;
    connection_.wake_writer(id_);
  }
  return n;
}

void H2Stream::wake_writer() {
  wake_session(EPOLLOUT);
}

void H2Stream::wake_session(uint32_t events) {
  if (session_ != nullptr) session_->on_io(events);
}

bool H2Stream::stream_closed() {
  stream_closed_ = true;
  // Reset by the client before the answer was out (or the connection is ending): stop the
  // Session, which gives back its target connection and slots and logs a 499.
  if (session_ != nullptr && response_ != Response::kComplete) abort_session();
  return done();
}

void H2Stream::abort_session() {
  stream_closed_ = true;
  if (session_ != nullptr) session_->abort();
}

void H2Stream::session_closed(bool response_complete) {
  session_ = nullptr;
  if (response_ == Response::kTunnel || (response_ == Response::kBody && response_complete)) {
    // The body is all here (or the tunnel ended): END_STREAM once its bytes are out.
    response_ = Response::kComplete;
    connection_.frames().resume_body(id_);
    connection_.flush_soon();
  } else if (!stream_closed_ && response_ != Response::kComplete) {
    // The Session ended without a whole response (its target failed mid-body): the client
    // must not take a cut body for a complete one.
    connection_.frames().reset(id_, NGHTTP2_INTERNAL_ERROR);
    connection_.flush_soon();
  }
  connection_.stream_done(id_);
}

}  // namespace ballast::proxy
