#pragma once
#include <sys/epoll.h>

#include <cstdint>
#include <memory>
#include <string>

#include "config/config.h"
#include "core/event_loop.h"
#include "core/socket_address.h"
#include "core/timer_queue.h"
#include "metrics/proxy_stats.h"
#include "proxy/client_connection.h"
#include "proxy/config_snapshot.h"
#include "proxy/connection_limiter.h"
#include "proxy/upstream.h"

namespace ballast::proxy {

class Worker;
class TargetGroupRuntime;

// One client connection on a tcp listener, relayed as bytes to a target of the listener's
// group: the same balancers, health, draining, circuit breakers and metrics as HTTP, with
// no request in sight. Small messages (a database's queries and answers) go through a stack
// buffer, a read and a send each; bulk flows move socket to socket through a pipe per
// direction with splice(2), never through user space. Each side's close is passed on as a
// half-close, so protocols that end with one (a client's shutdown(SHUT_WR)) work through it.
class TcpSession final : public ClientConnection, public UpstreamOwner {
 public:
  TcpSession(Worker& worker, std::shared_ptr<const ConfigSnapshot> snapshot,
             const config::ListenerConfig& listener, std::shared_ptr<metrics::ListenerStats> stats,
             int fd, const core::SocketAddress& peer, ConnectionLimiter::Admission admission);
  ~TcpSession() override;
  TcpSession(const TcpSession&) = delete;
  TcpSession& operator=(const TcpSession&) = delete;

  void start();
  void on_io(uint32_t events) override;
  void on_upstream_io(uint32_t events) override;
  // A relay is never idle in the HTTP sense: it runs until a side closes, or the shutdown
  // deadline (abort) ends it.
  void begin_drain() override {}
  void on_reload() override {}  // keeps the snapshot it started with
  void abort() override { close(); }
  void on_membership(TargetGroupRuntime& group, std::span<const size_t> fenced) override;

 private:
  enum class Phase {
    kProxyHeader,  // a trusted client's PROXY protocol header is expected first
    kHolding,      // no target is available: waiting for one, up to the group's hold_ms
    kConnecting,   // a target is being connected to
    kRelaying,
    kClosed,
  };
  // How a direction moves its bytes. Copying costs two system calls per message (a read
  // shorter than the buffer shows the socket empty: edge-triggered epoll reports what comes
  // next); splicing costs three (in, out, and the read that finds the socket empty) but
  // never copies, which pays once a read fills the buffer: that direction splices until
  // its socket is empty again.
  enum class Path { kCopy, kSplice };
  // One direction of the relay: source socket -> destination socket, with a pipe holding
  // what the destination could not take yet.
  struct Direction {
    int pipe_read = -1;
    int pipe_write = -1;
    size_t in_pipe = 0;     // bytes in the pipe, not yet sent on
    size_t copy_limit = 0;  // bytes per copy: what the (empty) pipe is sure to take back
    Path path = Path::kCopy;
    bool source_readable = true;
    bool source_closing = false;  // epoll saw the source hang up: read on until its EOF
    bool source_ended = false;    // EOF read from the source
    bool shut = false;            // the destination's write side was shut after the EOF
    std::string prefix;           // bytes to send before the relayed ones (a PROXY header)

    // What epoll reported of the source socket.
    void on_source_events(uint32_t events) {
      if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) source_readable = true;
      if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) source_closing = true;
    }
  };

  void drive();
  bool read_proxy_header();
  void connect_target();
  // Picks a target of group_ and connects, or holds when none is available.
  void pick_target();
  // Waits for a membership with a usable target, until hold_ms after the first wait.
  void hold(const std::string& why);
  // Gives up the target being connected to, without counting a failure.
  void abandon_connect();
  bool try_target(int target);
  void on_connected();
  void connect_failed(const std::string& why);
  // Moves what it can from `from` to `to`; false when nothing moved.
  bool pump(Direction& d, int from, int to, bool& to_writable, metrics::Counter& counted);
  // One read into a stack buffer and one send; what the destination does not take goes
  // into the pipe. Used while the pipe is empty and the direction is on Path::kCopy.
  bool copy_through(Direction& d, int from, int to, bool& to_writable, metrics::Counter& counted);
  bool splice_in(Direction& d, int from, metrics::Counter& counted);
  bool splice_out(Direction& d, int to, bool& to_writable);
  void close();
  static void on_timer(void* self);

  Worker& worker_;
  std::shared_ptr<const ConfigSnapshot> snapshot_;
  const config::ListenerConfig* listener_;  // in *snapshot_
  std::shared_ptr<metrics::ListenerStats> stats_;
  int fd_;
  core::SocketAddress peer_;    // the TCP peer
  core::SocketAddress client_;  // the client: the peer, or what its PROXY header named
  ConnectionLimiter::Admission admission_;
  Phase phase_ = Phase::kConnecting;

  TargetGroupRuntime* group_ = nullptr;
  int target_ = -1;
  int tries_ = 0;
  int tried_[4] = {-1, -1, -1, -1};
  bool holds_request_slot_ = false;
  std::shared_ptr<CircuitBreaker> breaker_;
  std::unique_ptr<UpstreamConnection> upstream_;

  bool client_writable_ = true;
  bool upstream_writable_ = false;
  Direction to_target_;
  Direction to_client_;
  int64_t activity_ms_ = 0;
  int64_t hold_started_ms_ = -1;  // when the connection first waited for a target (-1: never)
  core::Timer timer_;
};

}  // namespace ballast::proxy
