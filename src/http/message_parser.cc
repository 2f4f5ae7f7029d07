#include "http/message_parser.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/free_list.h"

namespace ballast::http {

namespace {
// The field vectors of parsers that ended, kept for the next parser on the thread: an
// HTTP/2 stream makes two parsers (its Session's request and response), and their vectors
// were an allocation and a free each, a visible share of a worker's time.
constexpr size_t kSpareHeaderVectors = 256;
constexpr size_t kMaxSpareCapacity = 128;  // a vector grown by an unusual head is let go
std::vector<std::vector<Header>>& spare_header_vectors() {
  thread_local std::vector<std::vector<Header>> spare;
  return spare;
}

MessageParser* self(llhttp_t* p) {
  return static_cast<MessageParser*>(p->data);
}

// Extends `view` with a span that continues it, or replaces it when it does not
// (llhttp may deliver one field in several calls when input arrives in pieces).
void extend(std::string_view& view, const char* at, size_t n) {
  if (!view.empty() && view.data() + view.size() == at) {
    view = std::string_view(view.data(), view.size() + n);
  } else if (view.empty()) {
    view = std::string_view(at, n);
  } else {
    view = std::string_view(at, n);  // not contiguous: cannot happen with a whole head
  }
}

// RFC 9110 5.6.2: tchar, the characters of a token (a field name is one).
bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// RFC 9110 5.5: a field value is VCHAR, obs-text (0x80-0xFF), SP and HTAB; every other
// control character (NUL, CR, LF, DEL...) is refused.
bool is_field_value_byte(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

// The first byte of `text` that `allowed` refuses, or -1.
template <typename Allowed>
int first_refused(std::string_view text, Allowed allowed) {
  for (unsigned char c : text) {
    if (!allowed(c)) return c;
  }
  return -1;
}

// `text` with bytes outside printable ASCII shown as "?", for an error message.
std::string printable(std::string_view text) {
  std::string out(text.substr(0, 64));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  }
  return out;
}

std::string byte_text(int c) {
  char text[8];
  snprintf(text, sizeof(text), "0x%02X", static_cast<unsigned>(c));
  return text;
}
}  // namespace

MessageParser::MessageParser(Kind kind, const HeadLimits& limits, MessageSink* sink)
    : kind_(kind), limits_(limits), sink_(sink) {
  llhttp_settings_init(&settings_);
  settings_.on_message_begin = &MessageParser::on_message_begin;
  settings_.on_url = &MessageParser::on_url;
  settings_.on_status = &MessageParser::on_status;
  settings_.on_method = &MessageParser::on_method;
  settings_.on_header_field = &MessageParser::on_header_field;
  settings_.on_header_value = &MessageParser::on_header_value;
  settings_.on_header_value_complete = &MessageParser::on_header_value_complete;
  settings_.on_headers_complete = &MessageParser::on_headers_complete;
  settings_.on_body = &MessageParser::on_body;
  settings_.on_message_complete = &MessageParser::on_message_complete;
  llhttp_init(&parser_, kind == Kind::kRequest ? HTTP_REQUEST : HTTP_RESPONSE, &settings_);
  parser_.data = this;
  std::vector<std::vector<Header>>& spare = spare_header_vectors();
  if (!spare.empty()) {
    head_.headers = std::move(spare.back());
    spare.pop_back();
  } else {
    // Room for a usual head; a larger one grows the vector.
    head_.headers.reserve(std::min<size_t>(limits_.max_headers, 32));
  }
}

MessageParser::~MessageParser() {
  std::vector<std::vector<Header>>& spare = spare_header_vectors();
  if (core::kRecycleMemory && spare.size() < kSpareHeaderVectors &&
      head_.headers.capacity() <= kMaxSpareCapacity) {
    head_.headers.clear();
    spare.push_back(std::move(head_.headers));
  }
}

int MessageParser::fail(int status, std::string reason) {
  // Whatever is wrong with a target's response is the target's fault: the client is told
  // 502, never a 4xx that would blame it.
  error_status_ = kind_ == Kind::kResponse ? 502 : status;
  error_reason_ = std::move(reason);
  return HPE_USER;
}

int MessageParser::on_message_begin(llhttp_t* p) {
  MessageParser* s = self(p);
  s->head_.clear();
  s->host_count_ = s->content_length_count_ = s->transfer_encoding_count_ = 0;
  s->transfer_encoding_ = {};
  s->in_body_ = false;
  return 0;
}

int MessageParser::on_url(llhttp_t* p, const char* at, size_t n) {
  extend(self(p)->head_.target, at, n);
  return 0;
}

int MessageParser::on_status(llhttp_t* p, const char* at, size_t n) {
  extend(self(p)->head_.reason, at, n);
  return 0;
}

int MessageParser::on_method(llhttp_t* p, const char* at, size_t n) {
  extend(self(p)->head_.method, at, n);
  return 0;
}

int MessageParser::on_header_field(llhttp_t* p, const char* at, size_t n) {
  MessageParser* s = self(p);
  auto& headers = s->head_.headers;
  if (!headers.empty() && headers.back().value.empty() &&
      headers.back().name.data() + headers.back().name.size() == at) {
    extend(headers.back().name, at, n);
    return 0;
  }
  if (headers.size() >= s->limits_.max_headers) {
    return s->fail(431, "more than " + std::to_string(s->limits_.max_headers) + " header fields");
  }
  headers.push_back(Header{std::string_view(at, n), {}});
  return 0;
}

int MessageParser::on_header_value(llhttp_t* p, const char* at, size_t n) {
  MessageParser* s = self(p);
  if (s->head_.headers.empty()) return s->fail(400, "header value without a name");
  extend(s->head_.headers.back().value, at, n);
  return 0;
}

int MessageParser::on_header_value_complete(llhttp_t* p) {
  MessageParser* s = self(p);
  if (s->head_.headers.empty()) return 0;
  return s->check_header(s->head_.headers.back());
}

int MessageParser::check_header(const Header& h) {
  const int bad_status = kind_ == Kind::kRequest ? 400 : 502;
  if (h.name.empty()) return fail(bad_status, "a header field has an empty name");
  if (int c = first_refused(h.name, is_tchar); c >= 0) {
    return fail(bad_status, "header name \"" + printable(h.name) + "\" contains byte " +
                                byte_text(c) + ", which a field name (a token) cannot hold");
  }
  if (int c = first_refused(h.value, is_field_value_byte); c >= 0) {
    return fail(bad_status, "header \"" + std::string(h.name) +
                                "\" contains the control character " + byte_text(c));
  }
  if (iequals(h.name, "host")) {
    if (++host_count_ > 1) return fail(400, "more than one Host header");
    head_.host = h.value;
  } else if (iequals(h.name, "content-length")) {
    if (++content_length_count_ > 1) return fail(400, "more than one Content-Length header");
  } else if (iequals(h.name, "transfer-encoding")) {
    if (++transfer_encoding_count_ > 1) return fail(400, "more than one Transfer-Encoding header");
    transfer_encoding_ = trim_ows(h.value);
  } else if (iequals(h.name, "connection") && head_.connection.empty()) {
    head_.connection = h.value;
  }
  return 0;
}

int MessageParser::check_framing() {
  const bool request = kind_ == Kind::kRequest;
  if (content_length_count_ > 0 && transfer_encoding_count_ > 0) {
    return fail(request ? 400 : 502, "both Content-Length and Transfer-Encoding are present");
  }
  if (transfer_encoding_count_ > 0 && !iequals(transfer_encoding_, "chunked")) {
    size_t comma = transfer_encoding_.rfind(',');
    std::string_view last =
        trim_ows(comma == std::string_view::npos ? transfer_encoding_
                                                 : transfer_encoding_.substr(comma + 1));
    if (!iequals(last, "chunked")) {
      return fail(request ? 400 : 502, "Transfer-Encoding must end with \"chunked\"");
    }
    return fail(request ? 501 : 502,
                "Transfer-Encoding codings other than \"chunked\" are not supported");
  }
  return 0;
}

int MessageParser::on_headers_complete(llhttp_t* p) {
  MessageParser* s = self(p);
  MessageHead& h = s->head_;
  h.version_major = p->http_major;
  h.version_minor = p->http_minor;
  if (h.version_major != 1 || h.version_minor > 1) {
    return s->fail(s->kind_ == Kind::kRequest ? 505 : 502,
                   "HTTP version " + std::to_string(h.version_major) + "." +
                       std::to_string(h.version_minor) + " is not supported");
  }
  if (int rc = s->check_framing(); rc != 0) return rc;
  if (s->kind_ == Kind::kRequest) {
    if (p->method == HTTP_CONNECT)
      return s->fail(405, "CONNECT is not supported by a reverse proxy");
    if (h.version_minor == 1 && s->host_count_ == 0) return s->fail(400, "missing Host header");
    h.is_head_request = p->method == HTTP_HEAD;
    // The request asks to switch protocols (Connection: upgrade, with an Upgrade header).
    // Whether it does is the target's answer: until a 101 comes back, what follows on the
    // connection is HTTP, so the parser goes on as usual.
    h.upgrade = p->upgrade != 0;
    p->upgrade = 0;
  } else {
    h.status = p->status_code;
    h.upgrade = p->upgrade != 0;
    p->upgrade = 0;
  }
  h.keep_alive = llhttp_should_keep_alive(p) != 0;
  h.chunked = (p->flags & F_CHUNKED) != 0;
  h.has_content_length = (p->flags & F_CONTENT_LENGTH) != 0;
  h.content_length = h.has_content_length ? p->content_length : 0;
  s->in_body_ = true;
  int rc = s->sink_->on_head(h);
  bool no_body = rc == 1 || (s->kind_ == Kind::kResponse && s->request_was_head_);
  return no_body ? 1 : 0;
}

int MessageParser::on_body(llhttp_t* p, const char* at, size_t n) {
  self(p)->sink_->on_body(at, n);
  return 0;
}

int MessageParser::on_message_complete(llhttp_t* p) {
  MessageParser* s = self(p);
  s->in_body_ = false;
  s->sink_->on_message_complete();
  return HPE_PAUSED;
}

MessageParser::Result MessageParser::result_from(llhttp_errno_t err, const char* data,
                                                 size_t length) {
  if (err == HPE_OK) return {Status::kOk, length};
  if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
    paused_for_upgrade_ = err == HPE_PAUSED_UPGRADE;
    const char* pos = llhttp_get_error_pos(&parser_);
    size_t consumed =
        (pos != nullptr && data != nullptr) ? static_cast<size_t>(pos - data) : length;
    return {Status::kMessageComplete, consumed};
  }
  if (error_status_ == 0) {
    const char* reason = llhttp_get_error_reason(&parser_);
    error_status_ = err == HPE_INVALID_VERSION ? 505 : 400;
    if (kind_ == Kind::kResponse) error_status_ = 502;
    error_reason_ = reason != nullptr ? reason : llhttp_errno_name(err);
  }
  return {Status::kError, 0};
}

MessageParser::Result MessageParser::execute(const char* data, size_t length) {
  if (error_status_ != 0) return {Status::kError, 0};
  return result_from(llhttp_execute(&parser_, data, length), data, length);
}

MessageParser::Result MessageParser::finish() {
  if (error_status_ != 0) return {Status::kError, 0};
  llhttp_errno_t err = llhttp_finish(&parser_);
  if (err == HPE_OK && in_body_) {
    error_status_ = kind_ == Kind::kResponse ? 502 : 400;
    error_reason_ = "connection closed before the end of the message";
    return {Status::kError, 0};
  }
  if (err == HPE_INVALID_EOF_STATE) {
    error_status_ = kind_ == Kind::kResponse ? 502 : 400;
    error_reason_ = "connection closed before the end of the message";
    return {Status::kError, 0};
  }
  return result_from(err, nullptr, 0);
}

void MessageParser::next_message() {
  if (paused_for_upgrade_) {
    llhttp_resume_after_upgrade(&parser_);
    paused_for_upgrade_ = false;
  } else {
    llhttp_resume(&parser_);
  }
}

}  // namespace ballast::http
