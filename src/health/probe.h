#pragma once
#include <functional>
#include <string>

#include "config/config.h"
#include "core/event_loop.h"
#include "core/socket_address.h"
#include "core/timer_queue.h"
#include "health/target_health.h"
#include "tls/tls_stream.h"

namespace ballast::health {

// One health check of one target: connect (TCP check: done), else send the request and
// read the status line. Reports once, through `done`, then stays inert; its owner
// frees it after the current batch of events (it may still be named in that batch).
class Probe final : public core::IoHandler {
 public:
  using Done = std::function<void(bool passed, HealthReason reason, const std::string& detail)>;
  Probe(core::EventLoop& loop, const config::HealthCheckConfig& check,
        const core::SocketAddress& address, std::string host_header, Done done);
  ~Probe() override;
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  void start();
  // Stops without reporting (its owner is going away).
  void cancel();
  void on_io(uint32_t events) override;

 private:
  static void on_timeout(void* self);
  void on_connected();
  void read_status();
  void send_request();
  // One transfer on the probe's connection, through TLS when the group speaks it.
  core::IoResult receive(char* buf, size_t len);
  core::IoResult transmit(const char* buf, size_t len);
  void finish(bool passed, HealthReason reason, std::string detail);

  core::EventLoop& loop_;
  const config::HealthCheckConfig& check_;
  core::SocketAddress address_;
  std::string request_;
  std::string response_;
  size_t sent_ = 0;
  int fd_ = -1;
  std::unique_ptr<tls::Stream> tls_;
  bool connected_ = false;
  bool finished_ = false;
  Done done_;
  core::Timer timer_{&Probe::on_timeout, this};
};

// Whether `status` falls in one of the matcher's ranges.
bool status_matches(const std::vector<std::pair<int, int>>& matcher, int status);

}  // namespace ballast::health
