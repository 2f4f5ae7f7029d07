#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/event_loop.h"
#include "core/socket_address.h"
#include "core/timer_queue.h"
#include "http/head_scanner.h"
#include "http/message_parser.h"
#include "tls/tls_stream.h"

namespace ballast::http {

struct HttpCallRequest {
  std::string method = "GET";
  core::SocketAddress address;
  std::string host;  // the Host header
  std::string path;  // the request target
  std::string content_type;
  std::string body;
  std::string user_agent = "ballast";
  std::string extra_headers;  // whole lines, each ending in CRLF ("Authorization: t\r\n")
  // HTTPS: the connection is TLS of this context, `host` without its port naming the server
  // (SNI, and the certificate's name when verifying). Null: plain HTTP.
  std::shared_ptr<const tls::ClientContext> tls;
};

struct HttpCallResult {
  bool answered = false;  // a complete response came back (any status)
  int status = 0;
  std::string body;   // up to the call's body limit; the rest is dropped
  std::string error;  // when not answered: what went wrong
};

// One HTTP/1.1 request (Connection: close) on the caller's event loop, never blocking it:
// connect, send, and read the response with the project's strict parser (any framing),
// all within `timeout_ms`, over TLS when the request has a client context. `done` runs
// exactly once, on the loop, never inside start(); the owner may destroy the call from
// `done` only through defer_delete. For etcd, Patroni, alarm webhooks and external metrics.
class HttpCall final : public core::IoHandler, private MessageSink {
 public:
  using Done = std::function<void(const HttpCallResult&)>;
  HttpCall(core::EventLoop& loop, HttpCallRequest request, int64_t timeout_ms, Done done,
           size_t max_body = 1 << 20);
  ~HttpCall() override;
  HttpCall(const HttpCall&) = delete;
  HttpCall& operator=(const HttpCall&) = delete;

  void start();
  void on_io(uint32_t events) override;
  // Closes the connection and drops `done` unrun: nothing of this call happens any more.
  void abandon();

  // For answers that do not end (an etcd watch): once a 200's head has come, its body goes
  // to `chunk` as it arrives instead of being kept, and the timeout no longer applies (it
  // bounds the connect and the head). `chunk` must not destroy the call. Before start().
  void stream_body(std::function<void(std::string_view)> chunk) { chunk_ = std::move(chunk); }

 private:
  static void on_timeout(void* self);
  // MessageSink: the response as the parser reads it.
  int on_head(MessageHead& head) override;
  void on_body(const char* data, size_t length) override;
  void on_message_complete() override { complete_ = true; }
  // Feeds what arrived to the parser; finishes on a complete or invalid response.
  void parse();
  // send() and recv(), or their TLS equivalents.
  core::IoResult write_some(const char* data, size_t n);
  core::IoResult read_some(char* buf, size_t n);
  std::string tls_failure() const;
  void finish(HttpCallResult result);
  void close_socket();

  core::EventLoop& loop_;
  std::string request_;
  core::SocketAddress address_;
  std::shared_ptr<const tls::ClientContext> tls_context_;
  std::string server_name_;
  std::unique_ptr<tls::Stream> tls_;
  int64_t timeout_ms_;
  Done done_;
  std::function<void(std::string_view)> chunk_;
  bool streaming_ = false;  // a 200 came and chunk_ takes its body
  size_t max_body_;
  int fd_ = -1;
  size_t sent_ = 0;
  std::string in_;  // received and not yet parsed
  HeadScanner scanner_{HeadLimits{}};
  MessageParser parser_{MessageParser::Kind::kResponse, HeadLimits{}, this};
  bool head_done_ = false;
  bool complete_ = false;
  HttpCallResult result_;
  std::string connect_error_;  // a connect that failed at once, reported by the timer
  bool finished_ = false;
  core::Timer timer_{&HttpCall::on_timeout, this};
};

// Abandons `call` (when there is one) and frees it after this batch of events: safe from
// inside its own callback, and no event of the batch reaches an owner that is going away.
void retire(core::EventLoop& loop, std::unique_ptr<HttpCall> call);

}  // namespace ballast::http
