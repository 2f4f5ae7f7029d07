#pragma once
#include <memory>

#include "config/config.h"
#include "core/event_loop.h"
#include "core/timer_queue.h"
#include "metrics/proxy_stats.h"
#include "proxy/access_log.h"
#include "proxy/config_snapshot.h"

namespace ballast::proxy {

class Worker;

// A worker's listening socket for one listener. Accepts in batches until EAGAIN and
// hands each connection to the worker.
class Acceptor final : public core::IoHandler {
 public:
  // `listener` belongs to `snapshot`, which the connections accepted here start with.
  Acceptor(Worker& worker, std::shared_ptr<const ConfigSnapshot> snapshot,
           const config::ListenerConfig& listener, int fd);
  ~Acceptor() override;
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  void on_io(uint32_t events) override;
  // A reload kept this listener's address: new connections get the new settings.
  void set_listener(std::shared_ptr<const ConfigSnapshot> snapshot,
                    const config::ListenerConfig& listener);
  const core::SocketAddress& bind() const { return listener_->bind; }
  int fd() const { return fd_; }
  // Accepts what is already queued (so those clients are served), then closes.
  void close_listener();

 private:
  void accept_batch(int max);
  // Out of file descriptors: a level-triggered listener would spin, so stop watching it
  // for a moment and try again (connections wait in the kernel backlog meanwhile).
  void pause_accepting();
  static void on_resume(void* self);

  Worker& worker_;
  std::shared_ptr<const ConfigSnapshot> snapshot_;
  const config::ListenerConfig* listener_;  // in *snapshot_
  std::shared_ptr<metrics::ListenerStats> stats_;
  std::shared_ptr<AccessLogWriter> access_log_;
  int fd_;
  bool paused_ = false;
  int64_t last_warning_ms_ = -1000000;
  core::Timer resume_timer_{&Acceptor::on_resume, this};
};

}  // namespace ballast::proxy
