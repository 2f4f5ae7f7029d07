#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/thread_annotations.h"

namespace ballast::test {

// Clients that send GET requests on keep-alive connections as fast as they are answered,
// until stopped (or a bound on their count), and count what comes back. A connection the
// server closes after a complete response is reopened; anything else (no answer, a
// broken connection, a status other than 200) is a failure.
class LoadLoop {
 public:
  LoadLoop(uint16_t port, int clients, std::string path = "/", int max_requests = 200000);
  ~LoadLoop();
  LoadLoop(const LoadLoop&) = delete;
  LoadLoop& operator=(const LoadLoop&) = delete;

  void stop();
  int done() const;  // requests answered or failed, all clients together
  int failed() const;
  // Answers by instance (X-Ballast-Instance).
  std::map<std::string, int> instances() const;
  std::string first_failure() const;
  // Waits (bounded, 20 s) until `n` more requests are done than now; false on timeout.
  bool wait_for_more(int n) const;
  // Waits (bounded, 20 s) until every client still running has finished `n` more requests
  // than now; false on timeout. After it, an answer that was already on its way when it was
  // called has been counted: each client reads its connection's answers in order, and a
  // request counts as done only once its answer is recorded.
  bool wait_for_every_client(int n) const;

 private:
  // How far one client has come.
  struct Progress {
    int done = 0;
    bool ended = false;  // it stopped or reached max_requests: nothing more will come
  };
  void run(size_t client, uint16_t port, const std::string& path, int max_requests);
  std::vector<Progress> progress() const;

  std::atomic<bool> stop_{false};
  mutable core::Mutex mu_;
  std::vector<Progress> progress_ GUARDED_BY(mu_);  // one per client
  std::map<std::string, int> instances_ GUARDED_BY(mu_);
  int failed_ GUARDED_BY(mu_) = 0;
  std::string first_failure_ GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

// Calls the admin API on 127.0.0.1:port and returns the status and body (status 0 when
// there was no answer).
struct AdminAnswer {
  int status = 0;
  std::string body;
};
AdminAnswer admin_call(uint16_t port, const std::string& method, const std::string& path,
                       const std::string& body = "", const std::string& extra_headers = "");

// The state the admin API gives target `address` of group `group` ("absent" when it is
// not listed, "no answer" when the API did not answer JSON).
std::string target_state(uint16_t admin_port, const std::string& group, const std::string& address);

// The configuration generation the admin API reports (-1 when it did not answer JSON).
int config_generation(uint16_t admin_port);

// The value of one series of /metrics, named with its labels as the exposition writes it
// (`ballast_listener_active_tunnels{listener="web"}`); -1 when it is absent.
double metric_value(uint16_t admin_port, const std::string& series);

}  // namespace ballast::test
