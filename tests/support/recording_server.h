#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/thread_annotations.h"

namespace ballast::test {

// A raw TCP server that records every byte it receives and answers each request with a
// scripted response. Tests use it as a target to see exactly what ballast forwards
// (and that malformed requests are never forwarded at all).
class RecordingServer {
 public:
  // Produces the raw response bytes for a request head; the default answers 200 "ok".
  using Responder = std::function<std::string(const std::string& request_head)>;

  // `close_after_response`: close the connection after each answer (without saying so).
  explicit RecordingServer(Responder responder = nullptr, bool close_after_response = false);
  ~RecordingServer();
  RecordingServer(const RecordingServer&) = delete;
  RecordingServer& operator=(const RecordingServer&) = delete;

  uint16_t port() const { return port_; }
  std::string received() const;
  size_t connections() const { return connections_.load(); }
  size_t requests() const { return requests_.load(); }

 private:
  void accept_loop();
  void serve(int fd);

  Responder responder_;
  bool close_after_response_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> connections_{0};
  std::atomic<size_t> requests_{0};
  mutable core::Mutex mu_;
  std::string received_ GUARDED_BY(mu_);
  std::vector<std::thread> threads_ GUARDED_BY(mu_);
  std::vector<int> client_fds_ GUARDED_BY(mu_);
  std::thread acceptor_;
};

}  // namespace ballast::test
