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
// no request in sight. Where the kernel relay is on (relay: kernel, the default, and the
// kernel allows it), the kernel moves the bytes itself, and this session only watches:
// hang-ups, budgets, tallies, the idle timeout. Otherwise, and for what the kernel relay
// hands back, small messages (a database's queries and answers) go through a stack
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
  // The kernel relay stopped forwarding one of this session's sockets (KernelNotices).
  void on_kernel_notice();

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
  // Who moves a direction's bytes (kernel_relay.h tells the protocol).
  enum class Mover {
    kUserSpace,    // this session: copy or splice
    kKernel,       // the kernel relay, within the direction's budget
    kHandingBack,  // the kernel relay stopped (over budget): this session takes over once
                   // what it forwarded has reached the destination socket
  };
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
    Mover mover = Mover::kUserSpace;
    // The source socket is in the kernel relay's map: its bytes are read with recv, which
    // sees what the relay left to user space; splice would not.
    bool source_in_kernel = false;
    uint64_t source_cookie = 0;  // the kernel relay's key for the source socket
    uint64_t dest_cookie = 0;
    uint64_t forwarded = 0;  // what the kernel relay forwarded, as last read (and counted)
    uint64_t budget = 0;     // what it may forward in all
    uint64_t dest_base = 0;  // bytes_taken(destination) when the pair joined the kernel relay

    // Whether the session waits for the destination to take what the kernel forwarded:
    // to pass a hang-up on, or to take a stopped relay's place.
    bool awaits_drain() const {
      return mover == Mover::kHandingBack || (mover == Mover::kKernel && source_closing && !shut);
    }

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
  // Kernel relay (tcp_session_kernel.cc).
  // Hands the pair to the kernel relay when the listener asks for it and the kernel allows.
  void join_kernel_relay();
  // A kernel direction's part of pump(): passes a hang-up on once what the kernel forwarded
  // has reached the destination, and takes over from a relay that stopped.
  bool pump_kernel(Direction& d, int from, int to, bool& to_writable);
  // Whether the destination socket has taken every byte the kernel relay forwarded to it.
  // d.forwarded must be final: read after the relay stopped (passing) or the source hung up.
  bool kernel_drained(const Direction& d, int to);
  // Counts what the kernel relay forwarded since the last reading of its tally.
  void count_forwarded(Direction& d, uint64_t forwarded);
  // Reads the tallies: counts bytes, notes activity, raises budgets, sees a relay stop.
  void check_kernel_relay(int64_t now);
  // The kernel relay stopped forwarding d's bytes: this session takes over after a drain.
  void hand_back(Direction& d);
  // Looks again soon (check_kernel_relay) whether the destination `to` took the bytes
  // (false), unless it failed (then closes, true).
  bool poll_drain(int to);
  // Both sockets report everything again (a direction moves in user space now).
  void watch_all_events();
  // When the next check_kernel_relay is due.
  int64_t next_kernel_check_ms(int64_t now);
  bool kernel_moves_bytes() const;
  void leave_kernel_relay();
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
  int64_t hold_started_ms_ = -1;    // when the connection first waited for a target (-1: never)
  int64_t kernel_checked_ms_ = 0;   // when check_kernel_relay last ran
  int64_t drain_poll_ms_ = 1;       // between polls of a destination the kernel relay feeds
  uint64_t moved_since_check_ = 0;  // bytes the kernel relay forwarded since the last check
  int quiet_checks_ = 0;            // checks in a row that found nothing moved (up to 3)
  core::Timer timer_;
};

}  // namespace ballast::proxy
