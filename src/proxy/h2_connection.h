#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/buffer.h"
#include "core/event_loop.h"
#include "core/socket_address.h"
#include "core/timer_queue.h"
#include "h2/server_session.h"
#include "metrics/proxy_stats.h"
#include "proxy/access_log.h"
#include "proxy/client_connection.h"
#include "proxy/config_snapshot.h"
#include "proxy/connection_limiter.h"
#include "proxy/h2_stream.h"
#include "tls/tls_stream.h"

namespace ballast::proxy {

class Worker;

// One HTTP/2 client connection: nghttp2 (h2::ServerSession) turns its bytes into streams,
// and each stream is served by a Session of its own (see StreamPort), so every request is
// routed, balanced, retried, limited, counted and logged as an HTTP/1.1 one is. The
// connection owns the socket (and TLS), the frames, the attack defences and the streams;
// the Sessions own the exchanges.
class H2Connection final : public ClientConnection, public h2::StreamEvents {
 public:
  // Takes over a connection a Session accepted: its socket (registered again here), TLS
  // state, and the bytes it read already (the preface, maybe more).
  struct Handover {
    std::shared_ptr<const ConfigSnapshot> snapshot;
    const config::ListenerConfig* listener;
    std::shared_ptr<metrics::ListenerStats> stats;
    std::shared_ptr<AccessLogWriter> access_log;
    int fd;
    std::unique_ptr<tls::Stream> tls;
    core::SocketAddress peer;
    std::string client_subject;
    ConnectionLimiter::Admission admission;
    std::string already_read;
  };
  H2Connection(Worker& worker, Handover handover);
  ~H2Connection() override;
  H2Connection(const H2Connection&) = delete;
  H2Connection& operator=(const H2Connection&) = delete;

  void start();
  void on_io(uint32_t events) override;
  // GOAWAY: no new streams; the connection ends once the current ones are answered.
  void begin_drain() override;
  void on_reload() override;
  void abort() override { close(); }

  // For its streams.
  h2::ServerSession& frames() { return frames_; }
  core::BufferPool& buffers();
  // Frames are waiting: send them after the current event batch.
  void flush_soon();
  // Stream `id`'s client window opened: its Session may write again (after the frames
  // that opened it are handled, not from inside nghttp2).
  void wake_writer(int32_t id);

  // h2::StreamEvents.
  void on_request_head(int32_t id, h2::RequestHead& head, bool end_stream) override;
  void on_request_data(int32_t id, const char* data, size_t n) override;
  void on_request_end(int32_t id) override;
  void on_stream_close(int32_t id, uint32_t error_code) override;
  size_t read_response_body(int32_t id, char* buf, size_t len, bool* end) override;
  // A stream's Session is gone; the stream goes too once nghttp2 is done with it.
  void stream_done(int32_t id);

 private:
  // kLingering: the last frames (a GOAWAY) are out and our side is shut; what the client
  // still sends is read and dropped for a moment, so that the kernel does not answer it with
  // a reset that could destroy the GOAWAY before the client reads it.
  enum class Phase { kOpen, kDraining, kLingering, kClosed };
  void start_lingering();
  void abort_streams();
  void linger();
  void drive();
  bool read_client();
  bool write_client();
  core::IoResult receive(char* buf, size_t len);
  core::IoResult send(const char* buf, size_t len);
  // A response ballast gives itself, without a Session (a head too large, CONNECT).
  void answer(int32_t id, int status, const std::string& body);
  void arm_idle_timer();
  void close();
  static void on_timer(void* self);

  Worker& worker_;
  std::shared_ptr<const ConfigSnapshot> snapshot_;
  const config::ListenerConfig* listener_;  // in *snapshot_
  std::shared_ptr<metrics::ListenerStats> stats_;
  std::shared_ptr<AccessLogWriter> access_log_;
  int fd_;
  std::unique_ptr<tls::Stream> tls_;
  core::SocketAddress peer_;
  std::string peer_ip_;  // once, not per stream (inet_ntop formats with sprintf)
  std::string client_subject_;
  ConnectionLimiter::Admission admission_;
  Phase phase_ = Phase::kOpen;
  bool readable_ = true;
  bool writable_ = true;
  bool resume_queued_ = false;
  bool failed_ = false;  // a protocol error or an attack: GOAWAY goes out, then the close
  std::string pending_input_;
  std::vector<int32_t> wake_writers_;
  core::Buffer out_;
  h2::ServerSession frames_;
  std::unordered_map<int32_t, std::unique_ptr<H2Stream>> streams_;
  // Bodies of the responses ballast answers itself, by stream.
  std::unordered_map<int32_t, std::string> own_answers_;
  core::Timer timer_;
};

}  // namespace ballast::proxy
