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

// A response head as its HEADERS frame (and CONTINUATIONs) gave it, after nghttp2's checks
// (RFC 9113 8.3.2: :status only, no connection-specific fields, lowercase names). An
// interim (1xx) head comes before the final one.
struct ResponseHead {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> fields;  // the regular fields, in order
  // The decoded fields passed max_header_list_size: they were dropped, and the response is
  // not to be passed on.
  bool too_large = false;
  uint32_t decoded_bytes = 0;
};

// What a ClientSession tells its owner about the requests it sent. Calls come from inside
// receive() and send().
class ResponseEvents {
 public:
  virtual ~ResponseEvents() = default;
  virtual void on_response_head(int32_t stream, ResponseHead& head, bool end_stream) = 0;
  virtual void on_response_data(int32_t stream, const char* data, size_t n) = 0;
  virtual void on_response_end(int32_t stream) = 0;
  // The stream is over: answered, reset by either side, or the connection ends.
  virtual void on_stream_close(int32_t stream, uint32_t error_code) = 0;
  // Up to `len` bytes of the request body into `buf`; `*end` once it is complete. 0 bytes
  // without `*end`: none yet (resume_body() once there are).
  virtual size_t read_request_body(int32_t stream, char* buf, size_t len, bool* end) = 0;
};

// The client side of one HTTP/2 connection to a target, over nghttp2: requests in, frames
// out, and response events to the owner. No I/O of its own, like ServerSession. `limits`
// are what ballast allows the target: response header size, and how much response body
// it may send ahead of ballast's reading (the windows); max_concurrent_streams caps the
// streams ballast opens even when the target allows more.
class ClientSession {
 public:
  ClientSession(const Limits& limits, ResponseEvents& events);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Bytes from the target. False when the connection must end (failure() says why).
  bool receive(const char* data, size_t n);
  // Frames to send, appended to `out` until it holds `max` bytes or nothing is pending.
  bool send(core::Buffer& out, size_t max);
  bool wants_write() const;
  // Nothing more will be sent or received (after GOAWAY both ways, or a fatal error).
  bool finished() const;
  const std::string& failure() const { return failure_; }

  // A request: `fields` start with the pseudo-headers (:method, :scheme, :authority,
  // :path). Its body, when `has_body`, comes from ResponseEvents::read_request_body. The
  // new stream's id, or -1 when no stream can be opened on this connection any more.
  int32_t submit_request(const Fields& fields, bool has_body);
  void resume_body(int32_t stream);
  void reset(int32_t stream, uint32_t error_code);
  // `n` bytes of the stream's response body went on: the target may send that much more.
  void consumed(int32_t stream, size_t n);
  // Graceful end from our side: GOAWAY, the streams in progress finish.
  void shut_down();

  // Streams that may be open at once: what the target allows, within our cap; 0 once
  // either side said GOAWAY.
  uint32_t stream_limit() const;
  size_t open_streams() const { return open_streams_; }
  // A stream that ended this way was never processed by the target (RFC 9113 8.7:
  // REFUSED_STREAM, or above the last stream id of its GOAWAY), so it may go again.
  bool unprocessed(int32_t stream, uint32_t error_code) const;

 private:
  struct Callbacks;
  Limits limits_;
  ResponseEvents& events_;
  nghttp2_session* session_ = nullptr;
  size_t open_streams_ = 0;
  bool goaway_ = false;  // received or sent: no new streams
  int32_t goaway_last_stream_ = INT32_MAX;
  // Heads still arriving, by stream (nghttp2 holds a pointer as the stream's user data).
  std::unordered_map<int32_t, std::unique_ptr<ResponseHead>> heads_;
  std::string failure_;
};

}  // namespace ballast::h2
