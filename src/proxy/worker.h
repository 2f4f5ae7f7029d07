#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "core/buffer.h"
#include "core/event_loop.h"
#include "core/timer_queue.h"
#include "lb/hash.h"
#include "metrics/metrics_registry.h"
#include "proxy/access_log.h"
#include "proxy/circuit_breaker.h"
#include "proxy/config_snapshot.h"
#include "proxy/control_link.h"
#include "proxy/h2_connection.h"
#include "proxy/membership.h"
#include "proxy/request_id.h"
#include "proxy/target_group_runtime.h"

namespace ballast::proxy {

class Acceptor;
class KernelNotices;
class ClientConnection;

// A new configuration for a worker, applied in one step on its thread.
struct WorkerReload {
  std::shared_ptr<const config::Config> config;
  std::vector<std::shared_ptr<CircuitBreaker>> breakers;  // by group position (null: none)
  // Listening sockets the control thread opened for this worker: listeners whose bind
  // address is new. Listeners whose address stays keep their socket.
  std::vector<std::pair<core::SocketAddress, int>> new_sockets;
  // The membership of every group of the new configuration, by group position.
  std::vector<std::shared_ptr<const GroupMembership>> memberships;
  // Access-log files by path, for every listener that logs.
  std::map<std::string, std::shared_ptr<AccessLogFile>> log_files;
  // Connection limits by listener position, shared by all workers.
  std::vector<std::shared_ptr<ConnectionLimiter>> limiters;
};

// One thread with its own event loop, its own SO_REUSEPORT listening sockets, its own
// upstream connection pools and balancers. A connection lives on one worker for life,
// so nothing on the request path is shared with another thread. The control thread
// talks to it only through posted messages (memberships, reloads, shutdown).
class Worker {
 public:
  // `breakers[g]`: group g's circuit breakers, shared by all workers (null: none).
  // `metrics`: where the worker's counts go (null: kept privately, for tests).
  // `limiters[l]`: listener l's connection limits, shared by all workers (missing: the
  // worker's own).
  Worker(std::shared_ptr<const config::Config> config, unsigned index,
         const std::vector<std::shared_ptr<CircuitBreaker>>& breakers,
         ControlLink* control = nullptr, metrics::MetricsRegistry* metrics = nullptr,
         std::vector<std::shared_ptr<ConnectionLimiter>> limiters = {});
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Binds this worker's listening sockets, or adopts sockets handed over by the process
  // this one replaces (`inherited`: by address, as SocketAddress::to_string() writes it;
  // those taken are removed from it). Call before start().
  bool open_listeners(std::string* error,
                      std::map<std::string, std::vector<int>>* inherited = nullptr);
  // Its listening sockets by address. Before start() only.
  std::vector<std::pair<core::SocketAddress, int>> listening_sockets() const;
  // Before start() only (no other thread runs the worker yet).
  void apply_membership(size_t group, const GroupMembership& membership);
  // Before open_listeners(): the access-log files of the configuration, by path.
  void set_log_files(const std::map<std::string, std::shared_ptr<AccessLogFile>>& files);
  // Thread-safe: after SIGUSR1 the files were opened again (logrotate moved the old ones).
  void post_reopened_logs(std::map<std::string, std::shared_ptr<AccessLogFile>> files);
  void start();
  // Thread-safe: the message is applied on the worker's thread, which then calls
  // `applied` (when given).
  void post_membership(std::shared_ptr<const config::Config> config, size_t group,
                       std::shared_ptr<const GroupMembership> membership,
                       std::function<void()> applied = {});
  void post_reload(WorkerReload reload, std::function<void()> applied = {});
  // Thread-safe: stop accepting, finish in-flight requests, then stop the loop once no
  // connection is left or `deadline_ms` (from now) passes.
  void request_shutdown(int64_t deadline_ms);
  void join();

  core::EventLoop& loop() { return loop_; }
  core::BufferPool& buffers() { return buffers_; }
  RequestIdGenerator& request_ids() { return request_ids_; }
  lb::Random& random() { return random_; }
  // The configuration new requests start with, and its target groups.
  const std::shared_ptr<const ConfigSnapshot>& snapshot() const { return snapshot_; }
  const config::Config& config() const { return snapshot_->config(); }
  bool draining() const { return draining_; }
  // This worker's counts for a listener (taken when an acceptor is made, not per request).
  std::shared_ptr<metrics::ListenerStats> listener_stats(const config::ListenerConfig& l) {
    return metrics_->listener(l.name, index_);
  }
  // This worker's access log for a listener, or null when it does not log.
  std::shared_ptr<AccessLogWriter> access_log(const config::ListenerConfig& l) const;
  unsigned index() const { return index_; }
  // This worker's notices from the kernel relay, opened on first use; nullptr when refused.
  KernelNotices* kernel_notices();

  // A connection accepted on `listener` of `snapshot` (the one its acceptor serves, which
  // a reload may already have replaced when the acceptor empties its queue).
  void accept_connection(std::shared_ptr<const ConfigSnapshot> snapshot,
                         const config::ListenerConfig& listener,
                         const std::shared_ptr<metrics::ListenerStats>& stats,
                         const std::shared_ptr<AccessLogWriter>& access_log, int fd,
                         const core::SocketAddress& peer, ConnectionLimiter::Admission admission);
  void session_closed(ClientConnection* session);
  // A connection a Session accepted turned to HTTP/2.
  void adopt_http2(H2Connection::Handover handover);

 private:
  void link(ClientConnection* connection);
  // After `group` took a new membership: connections it fenced close, waiting ones retry.
  void tell_connections(TargetGroupRuntime& group);
  std::shared_ptr<TargetGroupRuntime> make_group(
      const std::shared_ptr<const config::Config>& config, size_t position,
      std::shared_ptr<CircuitBreaker> breaker);
  // The snapshot of `reload.config`: groups that stay (by name) are the current runtimes,
  // reconfigured; the others are new.
  std::shared_ptr<const ConfigSnapshot> next_snapshot(WorkerReload& reload);
  void apply_reload(WorkerReload& reload);
  void close_removed_acceptors(const ConfigSnapshot& next);
  void adopt_new_sockets(std::vector<std::pair<core::SocketAddress, int>>& new_sockets);
  // One writer per listener that logs, kept when a reload leaves its file and format.
  void update_access_logs(const std::map<std::string, std::shared_ptr<AccessLogFile>>& files);
  static void on_flush_timer(void* self);
  void begin_shutdown(int64_t deadline_ms);
  void maybe_finish_shutdown();
  static void on_shutdown_deadline(void* self);

  std::shared_ptr<const ConfigSnapshot> snapshot_;
  unsigned index_;
  ControlLink* control_;
  std::unique_ptr<metrics::MetricsRegistry> own_metrics_;  // when none was given
  metrics::MetricsRegistry* metrics_;
  core::EventLoop loop_;
  std::unique_ptr<KernelNotices> kernel_notices_;
  bool kernel_notices_opened_ = false;  // (refused ones are not asked for twice)
  core::BufferPool buffers_;
  RequestIdGenerator request_ids_;
  lb::Random random_{std::random_device{}()};
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  ClientConnection* sessions_ = nullptr;  // intrusive list head
  size_t session_count_ = 0;
  bool draining_ = false;
  core::Timer shutdown_timer_;
  core::Timer flush_timer_{&Worker::on_flush_timer, this};
  std::map<std::string, std::shared_ptr<AccessLogWriter>> access_logs_;  // by listener name
  std::thread thread_;
};

}  // namespace ballast::proxy
