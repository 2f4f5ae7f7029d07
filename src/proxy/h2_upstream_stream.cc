#include "proxy/h2_upstream_stream.h"

#include <nghttp2/nghttp2.h>
#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "http/headers.h"
#include "http/status.h"
#include "proxy/h2_upstream_connection.h"
#include "proxy/upstream.h"

namespace ballast::proxy {

namespace {
// Request body bytes a stream holds for nghttp2: beyond them the Session is told to wait,
// and once its own 64 KiB queue is full it stops reading from the client.
constexpr size_t kMaxBody = 64 * 1024;
}  // namespace

H2UpstreamStream::H2UpstreamStream(H2UpstreamConnection& connection, uint64_t serial, bool secure)
    : connection_(&connection), serial_(serial), secure_(secure) {}

H2UpstreamStream::~H2UpstreamStream() {
  if (connection_ != nullptr) connection_->detach(*this);
}

int H2UpstreamStream::connect_error() const {
  if (connection_ != nullptr) return connection_->connect_error();
  return failure_.empty() ? 0 : ECONNRESET;
}

core::IoResult H2UpstreamStream::write(const char* buf, size_t len) {
  if (connection_ == nullptr || closed_ || !failure_.empty()) return {core::IoState::kFailed, 0};
  size_t used = 0;
  if (request_ == Request::kHead) {
    // The Session writes its head whole, but a retry may hand it over in pieces.
    size_t from = head_.size() >= 3 ? head_.size() - 3 : 0;
    head_.append(buf, len);
    size_t end = head_.find("\r\n\r\n", from);
    if (end == std::string::npos) return {core::IoState::kOk, len};
    used = len - (head_.size() - (end + 4));
    head_.resize(end + 4);
    bool opened = open(head_);
    head_.clear();
    if (!opened) return {core::IoState::kFailed, 0};
  }
  if (request_ != Request::kBody || used == len) return {core::IoState::kOk, len};
  size_t taken = take_body(buf + used, len - used);
  if (!failure_.empty()) return {core::IoState::kFailed, 0};
  if (used + taken == 0) return {core::IoState::kWantWrite, 0};
  return {core::IoState::kOk, used + taken};
}

bool H2UpstreamStream::open(std::string_view head) {
  // "METHOD target HTTP/1.1\r\n", then "Name: value\r\n" lines: the Session's own writing.
  size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 <= sp1) {
    fail("ballast wrote a request line it cannot read: " + std::string(line));
    return false;
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  head_request_ = method == "HEAD";
  // Names in lower case (RFC 9113 8.2.1), all in one buffer sized up front so that the
  // views into it stay put; values are views into the head.
  std::string names;
  names.reserve(head.size());
  h2::Fields fields;
  fields.reserve(24);
  fields.emplace_back(":method", method);
  fields.emplace_back(":scheme", secure_ ? "https" : "http");
  fields.emplace_back(":authority", std::string_view());
  fields.emplace_back(":path", target);
  for (size_t at = line_end + 2; at + 2 < head.size();) {
    size_t eol = head.find("\r\n", at);
    std::string_view field = head.substr(at, eol - at);
    at = eol + 2;
    size_t colon = field.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = field.substr(0, colon);
    std::string_view value = http::trim_ows(field.substr(colon + 1));
    if (http::iequals(name, "host")) {
      fields[2].second = value;  // RFC 9113 8.3.1: the authority, instead of Host
      continue;
    }
    if (http::iequals(name, "transfer-encoding")) {
      body_framing_ = Body::kChunked;
      continue;
    }
    if (http::iequals(name, "content-length")) {
      std::from_chars(value.data(), value.data() + value.size(), body_left_);
      body_framing_ = Body::kLength;
    }
    // Connection-specific fields have no place in HTTP/2 (RFC 9113 8.2.2).
    if (http::is_hop_by_hop(name, "")) continue;
    size_t start = names.size();
    for (char c : name) names.push_back(http::ascii_lower(c));
    fields.emplace_back(std::string_view(names).substr(start, name.size()), value);
  }
  if (fields[2].second.empty()) fields.erase(fields.begin() + 2);
  bool has_body = body_framing_ == Body::kChunked || body_left_ > 0;
  id_ = connection_->open(*this, fields, has_body);
  if (id_ < 0) {
    unprocessed_ = true;
    fail("the HTTP/2 connection to the target takes no more streams");
    return false;
  }
  request_ = has_body ? Request::kBody : Request::kSent;
  return true;
}

size_t H2UpstreamStream::take_body(const char* buf, size_t len) {
  size_t room = kMaxBody - std::min(kMaxBody, body_.size());
  size_t n = std::min(len, room);
  if (body_framing_ == Body::kLength) {
    n = static_cast<size_t>(std::min<uint64_t>(n, body_left_));
    body_.append(buf, n);
    body_left_ -= n;
    if (body_left_ == 0) request_ = Request::kSent;
  } else {
    // Chunked bytes only shrink when unframed, so a prefix of `room` bytes fits.
    auto status = dechunk_.feed(std::string_view(buf, n),
                                [this](const char* data, size_t k) { body_.append(data, k); });
    if (status == http::ChunkedDecoder::Status::kError) {
      fail("ballast wrote a chunked request body it cannot read");
      return 0;
    }
    if (status == http::ChunkedDecoder::Status::kDone) request_ = Request::kSent;
  }
  if (n < len) waiting_for_room_ = true;  // read_body() wakes the Session
  if (n > 0 || request_ == Request::kSent) connection_->resume_body(id_);
  return n;
}

size_t H2UpstreamStream::read_body(char* buf, size_t len, bool* end) {
  size_t n = std::min(len, body_.size());
  if (n > 0) {
    std::memcpy(buf, body_.data(), n);
    body_.erase(0, n);
  }
  *end = request_ == Request::kSent && body_.empty();
  if (waiting_for_room_ && body_.size() < kMaxBody / 2) {
    waiting_for_room_ = false;
    wake(EPOLLOUT);
  }
  return n;
}

core::IoResult H2UpstreamStream::read(char* buf, size_t len) {
  size_t available = response_.size() - response_read_;
  if (available == 0) {
    bool over = response_ended_ || closed_ || !failure_.empty() || connection_ == nullptr;
    return {over ? core::IoState::kClosed : core::IoState::kWantRead, 0};
  }
  size_t n = std::min(len, available);
  std::memcpy(buf, response_.data() + response_read_, n);
  response_read_ += n;
  if (response_read_ == response_.size()) {
    response_.clear();
    response_read_ = 0;
  }
  // The Session took body bytes: the target may send as many more.
  size_t credit = std::min(unconsumed_, n);
  if (credit > 0 && connection_ != nullptr) {
    unconsumed_ -= credit;
    connection_->consumed(id_, credit);
  }
  return {core::IoState::kOk, n};
}

void H2UpstreamStream::on_head(h2::ResponseHead& head, bool end_stream) {
  if (head.too_large) {
    fail("the target's response header fields are larger than ballast accepts");
    if (connection_ != nullptr) connection_->reset(id_, NGHTTP2_CANCEL);
    wake(EPOLLIN | EPOLLRDHUP);
    return;
  }
  bool interim = head.status < 200;
  bool body_allowed = !interim && !head_request_ && head.status != 204 && head.status != 304;
  bool has_length = false;
  char status[4];
  std::to_chars(status, status + 3, head.status);
  response_.append("HTTP/1.1 ").append(status, 3).append(" ");
  response_.append(http::reason_phrase(head.status)).append("\r\n");
  for (const auto& [name, value] : head.fields) {
    if (name == "content-length") has_length = true;
    response_.append(name).append(": ").append(value).append("\r\n");
  }
  if (body_allowed && !has_length) {
    // Its end is END_STREAM: as HTTP/1.1, chunked (or empty, when there is no body at all).
    response_chunked_ = !end_stream;
    response_.append(end_stream ? "content-length: 0\r\n" : "transfer-encoding: chunked\r\n");
  }
  response_.append("\r\n");
  if (!interim) response_started_ = true;
  if (end_stream && !interim) response_ended_ = true;
  wake(EPOLLIN);
}

void H2UpstreamStream::on_data(const char* data, size_t n) {
  unconsumed_ += n;
  if (response_chunked_)
    http::append_chunk(response_, data, n);
  else
    response_.append(data, n);
  wake(EPOLLIN);
}

void H2UpstreamStream::on_end() {
  if (response_chunked_) response_.append(http::kLastChunk);
  response_ended_ = true;
  wake(EPOLLIN);
}

void H2UpstreamStream::on_close(uint32_t error_code, bool unprocessed) {
  closed_ = true;
  if (!response_ended_ && failure_.empty()) {
    unprocessed_ = unprocessed && !response_started_;
    fail(error_code == NGHTTP2_NO_ERROR
             ? std::string("the target ended its HTTP/2 stream without a complete response")
             : std::string("the target reset its HTTP/2 stream (") +
                   nghttp2_http2_strerror(error_code) + ")");
  }
  wake(EPOLLIN | EPOLLRDHUP);
}

void H2UpstreamStream::on_connection_lost(const std::string& why, bool unprocessed) {
  if (!response_ended_ && failure_.empty()) {
    unprocessed_ = unprocessed && !response_started_;
    fail(why);
  }
  closed_ = true;
  wake(EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLERR);
}

void H2UpstreamStream::forget_connection() {
  connection_ = nullptr;
}

void H2UpstreamStream::fail(std::string why) {
  failure_ = std::move(why);
}

void H2UpstreamStream::wake(uint32_t events) {
  if (connection_ != nullptr) connection_->wake(serial_, events);
}

}  // namespace ballast::proxy
