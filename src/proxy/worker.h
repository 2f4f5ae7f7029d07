#pragma once
#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "core/buffer.h"
#include "core/event_loop.h"
#include "core/timer_queue.h"
#include "health/health_board.h"
#include "lb/hash.h"
#include "proxy/circuit_breaker.h"
#include "proxy/request_id.h"
#include "proxy/target_group_runtime.h"

namespace ballast::proxy {

class Acceptor;
class Session;

// One thread with its own event loop, its own SO_REUSEPORT listening sockets, its own
// upstream connection pools and balancers. A connection lives on one worker for life,
// so nothing on the request path is shared with another thread.
class Worker {
 public:
  // `boards[g]`: the health of group g's targets, or null when it has no health check.
  // `breakers[g]`: group g's circuit breakers, shared by all workers.
  Worker(const config::Config& config, unsigned index,
         const std::vector<std::shared_ptr<health::HealthBoard>>& boards,
         const std::vector<std::shared_ptr<CircuitBreaker>>& breakers);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Binds this worker's listening sockets. Call before start().
  bool open_listeners(std::string* error);
  void start();
  // Thread-safe: stop accepting, finish in-flight requests, then stop the loop once no
  // connection is left or `deadline_ms` (from now) passes.
  void request_shutdown(int64_t deadline_ms);
  void join();

  core::EventLoop& loop() { return loop_; }
  core::BufferPool& buffers() { return buffers_; }
  RequestIdGenerator& request_ids() { return request_ids_; }
  lb::Random& random() { return random_; }
  TargetGroupRuntime& group(size_t i) { return *groups_[i]; }
  bool draining() const { return draining_; }
  unsigned index() const { return index_; }

  void accept_connection(const config::ListenerConfig& listener, int fd,
                         const core::SocketAddress& peer);
  void session_closed(Session* session);

 private:
  void begin_shutdown(int64_t deadline_ms);
  void maybe_finish_shutdown();
  static void on_shutdown_deadline(void* self);

  const config::Config& config_;
  unsigned index_;
  core::EventLoop loop_;
  core::BufferPool buffers_;
  RequestIdGenerator request_ids_;
  lb::Random random_{std::random_device{}()};
  std::vector<std::unique_ptr<TargetGroupRuntime>> groups_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  Session* sessions_ = nullptr;  // intrusive list head
  size_t session_count_ = 0;
  bool draining_ = false;
  core::Timer shutdown_timer_;
  std::thread thread_;
};

}  // namespace ballast::proxy
