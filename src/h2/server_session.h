#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/buffer.h"
#include "h2/fields.h"
#include "h2/limits.h"

struct nghttp2_session;

namespace ballast::h2 {

// A request as its HEADERS frame (and CONTINUATIONs) gave it, after nghttp2's checks
// (RFC 9113 8.2 and 8.3: pseudo-headers, connection-specific fields, TE, lowercase names).
struct RequestHead {
  std::string method, scheme, authority, path;
  std::string protocol;  // :protocol of an extended CONNECT (RFC 8441), or empty
  std::vector<std::pair<std::string, std::string>> fields;  // the regular fields, in order
  bool has_content_length = false;
  uint64_t content_length = 0;
  // The decoded fields passed max_header_list_size: they were dropped, the request is to
  // be refused (431).
  bool too_large = false;
  uint32_t decoded_bytes = 0;
  // Empty again, keeping the memory for the next request.
  void clear() {
    method.clear();
    scheme.clear();
    authority.clear();
    path.clear();
    protocol.clear();
    fields.clear();
    has_content_length = false;
    content_length = 0;
    too_large = false;
    decoded_bytes = 0;
  }
};

// What a ServerSession tells its owner about streams. Calls come from inside receive()
// and send().
class StreamEvents {
 public:
  virtual ~StreamEvents() = default;
  virtual void on_request_head(int32_t stream, RequestHead& head, bool end_stream) = 0;
  virtual void on_request_data(int32_t stream, const char* data, size_t n) = 0;
  virtual void on_request_end(int32_t stream) = 0;
  // The stream is over: answered, reset by either side, or the connection ends.
  virtual void on_stream_close(int32_t stream, uint32_t error_code) = 0;
  // Up to `len` bytes of the response body into `buf`; `*end` once it is complete. 0 bytes
  // without `*end`: none yet (resume_body() once there are).
  virtual size_t read_response_body(int32_t stream, char* buf, size_t len, bool* end) = 0;
};

// The server side of one HTTP/2 connection, over nghttp2: bytes in, frames out, and
// stream events to the owner. No I/O of its own, so it can be driven by a socket, TLS,
// or a test. It enforces Limits, including the attack defences (rapid reset, CONTINUATION
// floods, control-frame floods, HPACK bombs) that end a connection with GOAWAY.
class ServerSession {
 public:
  ServerSession(const Limits& limits, StreamEvents& events);
  ~ServerSession();
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // Bytes from the client. False when the connection must end: GOAWAY is queued (send()
  // it), failure() says why.
  bool receive(const char* data, size_t n);
  // Frames to send, appended to `out` until it holds `max` bytes or nothing is pending.
  // False on a fatal error (failure() says which).
  bool send(core::Buffer& out, size_t max);
  // Frames are waiting to be sent.
  bool wants_write() const;
  // Neither side has anything more to say (after GOAWAY, once streams are done).
  bool finished() const;
  const std::string& failure() const { return failure_; }
  // The connection ends for an error or an attack (a GOAWAY with an error code).
  bool ended_for_error() const { return ended_for_error_; }

  // The response head; its body comes from StreamEvents::read_response_body.
  void submit_response(int32_t stream, int status, const Fields& fields, bool has_body);
  void resume_body(int32_t stream);
  void reset(int32_t stream, uint32_t error_code);
  // `n` bytes of the stream's request body went on: the client may send that much more.
  void consumed(int32_t stream, size_t n);
  // Graceful end: no new streams (GOAWAY with the last stream id), current ones finish.
  void shut_down();

 private:
  struct Callbacks;
  // A frame that did no work for the client; false once there were too many.
  bool glitch(const char* what);

  Limits limits_;
  StreamEvents& events_;
  nghttp2_session* session_ = nullptr;
  bool seen_settings_ = false;
  bool ended_for_error_ = false;
  uint64_t resets_ = 0;  // RST_STREAM frames from the client
  // Heads still arriving, by stream (nghttp2 holds a pointer as the stream's user data; a
  // connection that ends mid-head frees them here): few at a time, so a vector.
  std::vector<std::pair<int32_t, std::unique_ptr<RequestHead>>> heads_;
  // Heads handed over already, kept for the next streams (a head was three allocations).
  std::vector<std::unique_ptr<RequestHead>> spare_heads_;
  std::unique_ptr<RequestHead> take_head(int32_t stream);
  void recycle(std::unique_ptr<RequestHead> head);
  uint32_t glitches_ = 0;
  int64_t glitch_window_start_ms_ = 0;
  std::string failure_;
};

}  // namespace ballast::h2
