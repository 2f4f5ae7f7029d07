#pragma once
#include <memory>
#include <vector>

#include "config/config.h"
#include "health/health_board.h"
#include "health/health_checker.h"
#include "proxy/circuit_breaker.h"

namespace ballast::proxy {

class Worker;

// Runs the proxy described by a validated configuration: one Worker per thread, and the
// calling thread waiting for signals. SIGTERM / SIGINT start a graceful shutdown.
class Server {
 public:
  explicit Server(config::Config config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Blocks until shut down. Returns the process exit code.
  int run();

 private:
  config::Config config_;
  std::vector<std::shared_ptr<health::HealthBoard>> boards_;
  std::unique_ptr<health::HealthChecker> checker_;
  std::vector<std::shared_ptr<CircuitBreaker>> breakers_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

// Blocks the signals the server waits for, in the calling thread and every thread it
// starts afterwards. Call first thing in main().
void block_server_signals();

}  // namespace ballast::proxy
