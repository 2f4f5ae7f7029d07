#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/event_loop.h"
#include "core/io_result.h"
#include "core/socket_address.h"
#include "core/timer_queue.h"
#include "h2/limits.h"
#include "proxy/circuit_breaker.h"
#include "tls/tls_stream.h"

namespace ballast::proxy {

class H2UpstreamConnection;
class H2UpstreamStream;
class TargetPool;

// Receives events of an upstream connection while it serves a request.
class UpstreamOwner {
 public:
  virtual ~UpstreamOwner() = default;
  virtual void on_upstream_io(uint32_t events) = 0;
};

// A Session's way to one target for one request: a TCP connection of its own (plain or
// TLS, HTTP/1.1), or a stream of an HTTP/2 connection that other requests share. Either
// way the Session writes and reads HTTP/1.1 bytes. While a request uses it, events go to
// its owner; while a TCP connection is idle in the pool, any event (the target closed it,
// or sent bytes nobody asked for) means it can no longer be used, and the pool drops it.
class UpstreamConnection final : public core::IoHandler {
 public:
  // `breaker`: the connection holds one of its connection slots until destroyed (or null).
  UpstreamConnection(TargetPool* pool, int fd, std::shared_ptr<CircuitBreaker> breaker);
  // A stream of an HTTP/2 connection (which holds the connection slot).
  UpstreamConnection(TargetPool* pool, std::unique_ptr<H2UpstreamStream> stream);
  ~UpstreamConnection() override;
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;

  void on_io(uint32_t events) override;
  TargetPool* pool() const { return pool_; }
  int fd() const { return fd_; }  // -1 for an HTTP/2 stream
  // The request's bytes: through TLS to a group that speaks it, through an HTTP/2 stream,
  // else the socket.
  core::IoResult receive(char* buf, size_t len);
  core::IoResult send(const char* buf, size_t len);
  bool uses_tls() const { return tls_ != nullptr; }
  bool is_http2_stream() const { return stream_ != nullptr; }
  // 0, or the errno of a connect that failed (after readiness said the connect is over).
  int connect_error() const;
  // Why the TLS handshake or a TLS read failed ("certificate verify failed: ..."), or why
  // an HTTP/2 stream ended without a whole response; else empty.
  std::string failure() const;
  // A failure before any response means the request never reached the target, so it may
  // be sent again: a kept-alive connection the target had closed meanwhile (the usual
  // reason), or an HTTP/2 stream the target refused.
  bool failure_is_replayable() const;

  UpstreamOwner* owner = nullptr;
  bool connected = false;  // the TCP handshake completed
  bool readable = false;   // edge-triggered readiness, cleared on EAGAIN / short read
  // The peer half-closed (EPOLLRDHUP seen): a short read no longer means "drained",
  // because no further edge will report the EOF that is already queued.
  bool hangup = false;
  bool writable = false;
  bool reused = false;  // taken from the idle pool: a stale keep-alive may fail first use
  bool closed = false;

 private:
  friend class TargetPool;
  static void on_idle_timeout(void* self);
  // An idle TLS connection may read a session ticket or a close_notify: still usable?
  bool idle_tls_still_usable();
  TargetPool* pool_;
  int fd_;
  std::shared_ptr<CircuitBreaker> breaker_;
  std::unique_ptr<tls::Stream> tls_;
  std::unique_ptr<H2UpstreamStream> stream_;
  core::Timer idle_timer_;
};

// The connections of one worker to one target (no locks). HTTP/1.1: idle keep-alive
// connections, LIFO, so the most recently used (warmest) one is reused first. HTTP/2: a
// few shared connections, each taking requests up to its stream limit, a new one opened
// only when all are full.
class TargetPool {
 public:
  TargetPool(core::EventLoop& loop, const core::SocketAddress& address, uint32_t max_idle,
             int64_t idle_timeout_ms, std::shared_ptr<CircuitBreaker> breaker = nullptr);
  ~TargetPool();
  TargetPool(const TargetPool&) = delete;
  TargetPool& operator=(const TargetPool&) = delete;

  // An idle connection when one is available, else a new one whose connect is in
  // progress; for a group that speaks HTTP/2 (unless `http1_only`: a WebSocket upgrade),
  // a stream. Returns nullptr (errno set) when the connect fails at once.
  std::unique_ptr<UpstreamConnection> acquire(bool http1_only = false);
  // Opens a new connection, never reusing an idle one; for HTTP/2, a stream on a
  // connection other than any that failed or is going away.
  std::unique_ptr<UpstreamConnection> connect_new(bool http1_only = false);
  // Puts a connection that finished a response cleanly back in the pool (or closes it
  // when the pool is full or closing).
  void release(std::unique_ptr<UpstreamConnection> conn);
  // Closes a connection that must not be reused; safe during event dispatch.
  void discard(std::unique_ptr<UpstreamConnection> conn);
  void close_idle();
  // Keeps no idle connection: each closes after its current response (draining,
  // removal, shutdown).
  void set_closing() {
    closing_ = true;
    close_idle();
  }
  void set_open() { closing_ = false; }
  // A reload changed the group's keep-alive settings or circuit breakers.
  void set_limits(uint32_t max_idle, int64_t idle_timeout_ms,
                  std::shared_ptr<CircuitBreaker> breaker);
  // New connections speak TLS with `context` (null: plain), naming `server_name`.
  void set_tls(std::shared_ptr<const tls::ClientContext> context, std::string server_name);
  // Requests go over HTTP/2 (h2c, or TLS with `h2_context`, which offers ALPN h2), except
  // WebSocket upgrades; false: HTTP/1.1.
  void set_http2(bool enabled, std::shared_ptr<const tls::ClientContext> h2_context);
  // An HTTP/2 connection ended; it is freed after the current batch of events.
  void connection_closed(H2UpstreamConnection& conn);
  size_t http2_connection_count() const { return h2_.size(); }

  const core::SocketAddress& address() const { return address_; }
  size_t idle_count() const { return idle_.size(); }
  core::EventLoop& loop() { return loop_; }

  // After acquire() or connect_new() returned null: whether the group's max_connections
  // refused it (rather than the kernel).
  bool refused_by_breaker() const { return refused_by_breaker_; }

 private:
  std::shared_ptr<CircuitBreaker> breaker_;
  bool refused_by_breaker_ = false;
  friend class UpstreamConnection;
  void drop_idle(UpstreamConnection* conn);
  // A socket whose connect is in progress, holding a connection slot of the breaker; -1
  // (errno set, or refused_by_breaker_) when none could be opened.
  int open_socket();
  std::unique_ptr<UpstreamConnection> new_http1_connection();
  std::unique_ptr<UpstreamConnection> http2_stream();

  core::EventLoop& loop_;
  core::SocketAddress address_;
  std::shared_ptr<const tls::ClientContext> tls_;
  std::string server_name_;
  uint32_t max_idle_;
  int64_t idle_timeout_ms_;
  bool closing_ = false;
  std::vector<std::unique_ptr<UpstreamConnection>> idle_;
  bool http2_ = false;
  std::shared_ptr<const tls::ClientContext> h2_tls_;
  h2::Limits h2_limits_;
  std::vector<std::unique_ptr<H2UpstreamConnection>> h2_;
};

}  // namespace ballast::proxy
