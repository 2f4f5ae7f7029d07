#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/buffer.h"
#include "core/event_loop.h"
#include "core/timer_queue.h"
#include "h2/client_session.h"
#include "proxy/circuit_breaker.h"
#include "tls/tls_stream.h"

namespace ballast::proxy {

class H2UpstreamStream;
class TargetPool;

// One HTTP/2 connection from a worker to a target (h2c, or TLS with ALPN h2), shared by
// the requests of many Sessions at once, each an H2UpstreamStream. Owned by its TargetPool;
// no locks, like everything on a worker. Frames of all streams go out together, one write
// for many requests, after the current batch of events.
class H2UpstreamConnection final : public core::IoHandler, public h2::ResponseEvents {
 public:
  // `fd`: a socket whose connect is in progress; `tls`: its TLS client (ALPN h2) or null.
  // `breaker`: the connection holds one of its connection slots until destroyed (or null).
  H2UpstreamConnection(TargetPool& pool, int fd, std::unique_ptr<tls::Stream> tls,
                       std::shared_ptr<CircuitBreaker> breaker, const h2::Limits& limits,
                       int64_t idle_timeout_ms);
  ~H2UpstreamConnection() override;
  H2UpstreamConnection(const H2UpstreamConnection&) = delete;
  H2UpstreamConnection& operator=(const H2UpstreamConnection&) = delete;

  void on_io(uint32_t events) override;

  // A new request may start here: open or connecting, not going away, and a stream to spare.
  bool takes_streams() const;
  bool established() const { return phase_ == Phase::kOpen || phase_ == Phase::kDraining; }
  bool closed() const { return phase_ == Phase::kClosed; }
  bool secure() const { return tls_ != nullptr; }
  // 0 while connecting or once connected; the errno of a connect that failed.
  int connect_error() const { return connect_error_; }
  // A stream for a new request (see takes_streams()).
  std::unique_ptr<H2UpstreamStream> new_stream();
  // No new streams: the connection closes once the current ones end.
  void shut_down();
  // Closes now; streams in progress fail (the pool is going away).
  void abandon();
  // A new idle timeout (a reload changed the group's keep-alive settings).
  void set_idle_timeout(int64_t idle_timeout_ms) { idle_timeout_ms_ = idle_timeout_ms; }

  // For its streams.
  int32_t open(H2UpstreamStream& stream, const h2::Fields& fields, bool has_body);
  void detach(H2UpstreamStream& stream);
  void resume_body(int32_t id);
  void consumed(int32_t id, size_t n);
  void reset(int32_t id, uint32_t error_code);
  // Tell the stream's Session `events` after the frames in hand are handled.
  void wake(uint64_t serial, uint32_t events);

  // h2::ResponseEvents.
  void on_response_head(int32_t id, h2::ResponseHead& head, bool end_stream) override;
  void on_response_data(int32_t id, const char* data, size_t n) override;
  void on_response_end(int32_t id) override;
  void on_stream_close(int32_t id, uint32_t error_code) override;
  size_t read_request_body(int32_t id, char* buf, size_t len, bool* end) override;

 private:
  enum class Phase {
    kConnecting,
    kConnectingToDrain,  // shut down while connecting: its streams go out, then it drains
    kOpen,
    kDraining,  // our GOAWAY is sent: the open streams finish, no new one starts
    kClosed,
  };
  bool connecting() const {
    return phase_ == Phase::kConnecting || phase_ == Phase::kConnectingToDrain;
  }
  void drive();
  bool read_target();
  bool write_target();
  void deliver_wakes();
  void flush_soon();
  // The connection is over: every stream learns why, the pool lets go of it.
  void close(const std::string& why);
  // False (and closed) when TLS chose another protocol than h2.
  bool check_alpn();
  std::string transfer_failure() const;
  void close_if_done();
  void update_idle_timer();
  H2UpstreamStream* stream(int32_t id);
  static void on_idle_timeout(void* self);

  TargetPool& pool_;
  int fd_;
  std::unique_ptr<tls::Stream> tls_;
  std::shared_ptr<CircuitBreaker> breaker_;
  int64_t idle_timeout_ms_;
  h2::ClientSession frames_;
  core::Buffer out_;
  Phase phase_ = Phase::kConnecting;
  bool readable_ = false;
  bool writable_ = false;
  bool resume_queued_ = false;
  bool alpn_checked_ = false;
  int connect_error_ = 0;
  uint64_t next_serial_ = 1;
  // Every stream that belongs to a Session, by serial; open ones also by stream id.
  std::unordered_map<uint64_t, H2UpstreamStream*> attached_;
  std::unordered_map<int32_t, H2UpstreamStream*> streams_;
  std::vector<std::pair<uint64_t, uint32_t>> wakes_;
  core::Timer idle_timer_;
};

}  // namespace ballast::proxy
