#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/buffer.h"
#include "core/free_list.h"
#include "h2/server_session.h"
#include "proxy/stream_port.h"

namespace ballast::proxy {

class H2Connection;
class Session;

// One HTTP/2 stream of an H2Connection, and the Session that serves it. The request goes
// to the Session as HTTP/1.1 bytes; the head of its response (which the Session wrote, so
// it is only split, not validated) becomes a HEADERS frame, and the body that follows is sent
// by nghttp2 as the client's window allows.
class H2Stream final : public StreamPort {
 public:
  // One per stream: the memory is recycled per thread, as a Session's is.
  static void* operator new(size_t size) {
    return size == sizeof(H2Stream) ? core::FreeList<sizeof(H2Stream)>::take()
                                    : ::operator new(size);
  }
  static void operator delete(void* p, size_t size) {
    if (size == sizeof(H2Stream)) {
      core::FreeList<sizeof(H2Stream)>::give(p);
    } else {
      ::operator delete(p);
    }
  }
  H2Stream(H2Connection& connection, int32_t id);
  ~H2Stream() override;
  H2Stream(const H2Stream&) = delete;
  H2Stream& operator=(const H2Stream&) = delete;

  // The request head as HTTP/1.1 (Connection: close, so the Session serves only it). A
  // body whose Content-Length is at most `hold_limit` waits for END_STREAM before any of
  // the request goes on (see hold_until_end_).
  void start(const h2::RequestHead& head, bool end_stream, uint64_t hold_limit, Session* session);
  void add_body(const char* data, size_t n);
  void end_request();
  // nghttp2 asks for response body bytes.
  size_t read_body(char* buf, size_t len, bool* end);
  // nghttp2 closed the stream (answered, or reset by the client). True when the stream
  // can be freed now; otherwise it waits for its Session's session_closed().
  bool stream_closed();
  // The connection ends: the Session is stopped (it calls session_closed()).
  void abort_session();
  bool done() const { return stream_closed_ && session_ == nullptr; }
  // The client's window opened again after the Session was told to wait.
  void wake_writer();

  // StreamPort.
  core::IoResult read_request(char* buf, size_t len) override;
  core::IoResult write_response(const char* buf, size_t len) override;
  void session_closed(bool response_complete) override;

 private:
  // kTunnel: a WebSocket's 101 became :status 200; bytes pass as DATA both ways.
  enum class Response { kAwaitingHead, kBody, kTunnel, kComplete };
  // Body (or tunnel) bytes into body_, as many as fit.
  core::IoResult write_body(const char* buf, size_t len);
  // One response head, as the Session wrote it (trusted: no validation, only splitting).
  void on_head(std::string_view head);
  void wake_session(uint32_t events);

  H2Connection& connection_;
  int32_t id_;
  Session* session_ = nullptr;  // freed by the event loop after session_closed()
  bool stream_closed_ = false;

  std::string request_;  // HTTP/1.1 bytes the Session has not read yet
  size_t request_read_ = 0;
  size_t unconsumed_body_ = 0;  // DATA bytes not yet reported consumed (flow control)
  bool chunked_ = false;
  bool head_request_ = false;
  bool websocket_ = false;  // an extended CONNECT (RFC 8441): a tunnel once accepted
  bool request_ended_ = false;
  bool has_content_length_ = false;
  uint64_t content_length_ = 0;
  uint64_t body_received_ = 0;
  std::string held_back_;  // the body's last bytes, until END_STREAM
  // A small body (it fits the stream's window) is checked whole before the target sees
  // anything: a request whose DATA disagree with its Content-Length is then never
  // forwarded at all. A larger one streams, and only its last bytes wait: the target may
  // see the start of a request that is then cut, never a complete one.
  bool hold_until_end_ = false;

  Response response_ = Response::kAwaitingHead;
  std::string partial_head_;         // a head split over writes (the Session writes them whole)
  core::Buffer body_;                // response body bytes for nghttp2 to send
  bool waiting_for_window_ = false;  // the Session was told kWantWrite
};

}  // namespace ballast::proxy
