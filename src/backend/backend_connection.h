#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "backend/backend_server.h"
#include "backend/serving_slots.h"
#include "core/buffer.h"
#include "core/event_loop.h"
#include "core/timer_queue.h"
#include "http/head_scanner.h"
#include "http/message_parser.h"

namespace ballast::backend {

class ConnectionList;

// One client connection of the demo backend: parses requests one at a time and answers
// each from the endpoint table in route(). Large responses are generated as the socket
// drains, so /bytes/N never holds N bytes in memory.
class BackendConnection final : public core::IoHandler, public http::MessageSink {
 public:
  BackendConnection(core::EventLoop& loop, core::BufferPool& pool, BackendState& state, int fd,
                    ConnectionList& list);
  ~BackendConnection() override;
  BackendConnection(const BackendConnection&) = delete;
  BackendConnection& operator=(const BackendConnection&) = delete;

  void start();
  void on_io(uint32_t events) override;
  void close();

  BackendConnection* prev = nullptr;
  BackendConnection* next = nullptr;

 private:
  enum class Stream { kNone, kLength, kChunked, kUntilClose };

  int on_head(http::MessageHead& head) override;
  void on_body(const char* data, size_t n) override;
  void on_message_complete() override;

  void drive();
  bool read_some();
  bool parse_some();
  bool flush_some();
  bool generate_some();
  void route();
  void respond(int status, std::string_view content_type, std::string_view body);
  void start_stream(uint64_t bytes, Stream mode);
  void finish_response();
  void write_head(int status, std::string_view content_type, const uint64_t* content_length,
                  bool chunked);
  static void on_sleep_done(void* self);
  static void on_block_done(void* self);

  core::EventLoop& loop_;
  BackendState& state_;
  int fd_;
  ConnectionList& list_;
  core::Buffer in_;
  core::Buffer out_;
  http::HeadScanner scanner_;
  http::MessageParser parser_;
  core::Timer sleep_timer_;
  core::Timer block_timer_;
  std::unique_ptr<ServingSlots::Claim> block_claim_;  // /block: a slot held or waited for
  // Callbacks posted to this connection's loop (a slot granted) check it before touching it.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
  bool readable_ = true;
  bool writable_ = true;
  bool hangup_ = false;  // EPOLLRDHUP seen: read until EOF, not just a short read
  bool eof_ = false;
  bool closed_ = false;
  bool reading_head_ = true;
  bool request_done_ = false;  // the whole request (and body) was received
  bool responding_ = false;    // a response is being generated or waited for
  bool keep_alive_ = true;
  bool close_after_ = false;
  std::string method_;
  std::string target_;
  std::string echo_;  // request line and headers, for /echo
  uint64_t body_bytes_ = 0;
  Stream stream_ = Stream::kNone;
  uint64_t stream_remaining_ = 0;
};

// The connections of one backend thread, so they can be closed at exit.
class ConnectionList {
 public:
  void add(BackendConnection* c);
  void remove(BackendConnection* c);
  void close_all();

 private:
  BackendConnection* head_ = nullptr;
};

}  // namespace ballast::backend
