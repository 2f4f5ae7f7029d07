#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/io_result.h"
#include "h2/client_session.h"
#include "http/chunked.h"

namespace ballast::proxy {

class H2UpstreamConnection;
class UpstreamConnection;

// One request to a target over a shared HTTP/2 connection (H2UpstreamConnection), as its
// Session sees it: the Session writes the request as HTTP/1.1 bytes and reads the response
// as HTTP/1.1 bytes, exactly as over a socket, so routing, retries, circuit breakers,
// metrics and logs need no second copy (the mirror image of H2Stream on the client side).
// The request head, which the Session wrote, is only split, not validated; the body is
// unframed (Content-Length, or chunked) into DATA frames. The response becomes a head with
// Content-Length when the target sent one, else chunked, so its end is never the
// connection's.
class H2UpstreamStream {
 public:
  H2UpstreamStream(H2UpstreamConnection& connection, uint64_t serial, bool secure);
  // Detaches from the connection; a stream still open is reset (CANCEL).
  ~H2UpstreamStream();
  H2UpstreamStream(const H2UpstreamStream&) = delete;
  H2UpstreamStream& operator=(const H2UpstreamStream&) = delete;

  // The Session's side: request bytes in (kWantWrite while the body waits for the
  // target's window), response bytes out (kClosed at the end or on a failure).
  core::IoResult write(const char* buf, size_t len);
  core::IoResult read(char* buf, size_t len);
  // 0, or why the connection could not be made (an errno).
  int connect_error() const;
  // Why the stream ended without a complete response, or empty.
  const std::string& failure() const { return failure_; }
  // The target never processed the request (refused, or above its GOAWAY's last stream):
  // it may go again anywhere.
  bool unprocessed() const { return unprocessed_; }

  // The connection's side.
  uint64_t serial() const { return serial_; }
  int32_t id() const { return id_; }
  UpstreamConnection* handle = nullptr;  // the Session's view of this stream, for waking it
  void on_head(h2::ResponseHead& head, bool end_stream);
  void on_data(const char* data, size_t n);
  void on_end();
  void on_close(uint32_t error_code, bool unprocessed);
  // The connection is gone (failed, or its pool closed): nothing more will come.
  void on_connection_lost(const std::string& why, bool unprocessed);
  // The connection is freed: the stream must not call it again.
  void forget_connection();
  size_t read_body(char* buf, size_t len, bool* end);

 private:
  // kSent: the whole request is with nghttp2 (its body, if any, complete).
  enum class Request { kHead, kBody, kSent };
  enum class Body { kNone, kLength, kChunked };
  // The head the Session wrote, to fields; opens the stream.
  bool open(std::string_view head);
  size_t take_body(const char* buf, size_t len);
  void fail(std::string why);
  void wake(uint32_t events);

  H2UpstreamConnection* connection_;  // null once it is gone
  uint64_t serial_;
  bool secure_;
  int32_t id_ = -1;

  Request request_ = Request::kHead;
  Body body_framing_ = Body::kNone;
  std::string head_;  // a head split over writes
  uint64_t body_left_ = 0;
  http::ChunkedDecoder dechunk_;
  std::string body_;  // request body bytes for nghttp2 to send
  bool waiting_for_room_ = false;

  bool head_request_ = false;
  bool response_started_ = false;  // a final head arrived
  bool response_chunked_ = false;
  bool response_ended_ = false;
  bool closed_ = false;
  bool unprocessed_ = false;
  std::string response_;  // HTTP/1.1 bytes the Session has not read yet
  size_t response_read_ = 0;
  size_t unconsumed_ = 0;  // DATA bytes not yet reported consumed (flow control)
  std::string failure_;
};

}  // namespace ballast::proxy
