#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/socket_address.h"

namespace ballast::backend {

class ServingSlots;

struct BackendOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 0;
  std::string id;  // X-Ballast-Instance; defaults to the port
  unsigned threads = 2;
};

// State shared by every thread of one backend process.
struct BackendState {
  std::string instance_id;
  std::atomic<bool> healthy{true};
  std::unique_ptr<ServingSlots> slots;  // /block's serving slots, one per thread
};

// The demo application instance: a small multi-threaded HTTP/1.1 server with endpoints
// that let tests and demos shape load (CPU work, latency, status codes, large bodies).
class BackendServer {
 public:
  explicit BackendServer(BackendOptions options);
  ~BackendServer();
  // Binds, serves until SIGTERM / SIGINT, returns the exit code.
  int run();

 private:
  class Thread;
  BackendOptions options_;
  BackendState state_;
  std::vector<std::unique_ptr<Thread>> threads_;
};

}  // namespace ballast::backend
