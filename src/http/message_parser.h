#pragma once
#include <llhttp.h>

#include <cstddef>
#include <string>

#include "http/head_scanner.h"
#include "http/message_head.h"

namespace ballast::http {

// What the parser hands its owner. Return values of on_head:
//   0  the message has a body as its framing says;
//   1  the message has no body whatever its framing says (a response to HEAD, a 304).
class MessageSink {
 public:
  virtual ~MessageSink() = default;
  virtual int on_head(MessageHead& head) = 0;
  virtual void on_body(const char* data, size_t length) = 0;
  virtual void on_message_complete() = 0;
};

// An HTTP/1 message parser over llhttp in strict mode, plus the checks that keep
// request smuggling out: one Content-Length, never with Transfer-Encoding, a
// Transfer-Encoding of exactly "chunked", one Host, no control bytes in values.
//
// It stops after each message (so pipelined requests are handled one at a time);
// call next_message() to go on. Callers feed it the complete head in one execute()
// call (HeadScanner finds it), then body bytes in pieces of any size.
class MessageParser {
 public:
  enum class Kind { kRequest, kResponse };
  enum class Status { kOk, kMessageComplete, kError };
  struct Result {
    Status status;
    size_t consumed;
  };

  MessageParser(Kind kind, const HeadLimits& limits, MessageSink* sink);
  ~MessageParser();
  MessageParser(const MessageParser&) = delete;
  MessageParser& operator=(const MessageParser&) = delete;

  Result execute(const char* data, size_t length);
  // The peer closed the connection: completes a body that runs until close.
  Result finish();
  // After kMessageComplete: prepares for the next message on the connection.
  void next_message();
  // Tell a response parser whether the request was HEAD (no body follows).
  void set_request_was_head(bool v) { request_was_head_ = v; }

  bool in_body() const { return in_body_; }
  // After kError: the status to answer with (400, 413, 431, 501, 505...) and a reason
  // that says what was wrong, for the response body and the log.
  int error_status() const { return error_status_; }
  const std::string& error_reason() const { return error_reason_; }
  const MessageHead& head() const { return head_; }

 private:
  static int on_message_begin(llhttp_t* p);
  static int on_url(llhttp_t* p, const char* at, size_t n);
  static int on_status(llhttp_t* p, const char* at, size_t n);
  static int on_method(llhttp_t* p, const char* at, size_t n);
  static int on_header_field(llhttp_t* p, const char* at, size_t n);
  static int on_header_value(llhttp_t* p, const char* at, size_t n);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, size_t n);
  static int on_message_complete(llhttp_t* p);

  int fail(int status, std::string reason);
  int check_header(const Header& h);
  int check_framing();
  Result result_from(llhttp_errno_t err, const char* data, size_t length);

  Kind kind_;
  HeadLimits limits_;
  MessageSink* sink_;
  llhttp_t parser_;
  llhttp_settings_t settings_;
  MessageHead head_;
  bool in_body_ = false;
  bool request_was_head_ = false;
  bool paused_for_upgrade_ = false;
  int host_count_ = 0;
  int content_length_count_ = 0;
  int transfer_encoding_count_ = 0;
  std::string_view transfer_encoding_;
  int error_status_ = 0;
  std::string error_reason_;
};

}  // namespace ballast::http
