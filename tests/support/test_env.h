#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/ports.h"
#include "support/process.h"

namespace ballast::test {

// A fresh directory for this test's files (configs, logs), under the build tree's /tmp.
std::string make_temp_dir();
void write_file(const std::string& path, const std::string& text);
// The whole file (empty when it cannot be read).
std::string read_file(const std::string& path);
// Polls until something accepts connections on 127.0.0.1:port; bounded by timeout.
bool wait_for_port(uint16_t port, int timeout_ms = 10000);

// `ballast backend` on a free port.
class DemoBackend {
 public:
  explicit DemoBackend(const std::string& id = "");
  uint16_t port() const { return port_; }
  Process& process() { return *process_; }

 private:
  uint16_t port_;
  std::unique_ptr<Process> process_;
};

// `ballast run -c` with the given YAML; `${PORT}` in the text is replaced by a free
// port, which becomes port(). The admin API listens on another free port (admin_port(),
// `${ADMIN_PORT}` in the text), added to the file unless the YAML has its own `admin:`.
class Ballast {
 public:
  explicit Ballast(std::string yaml);
  // The same with `${PORT}` standing for `port`, chosen by the test (a port another
  // server must know before ballast starts).
  Ballast(std::string yaml, uint16_t port);
  // SIGTERM first (up to 5 s), so the instances of its autoscaling groups stop with it even
  // when a test ends early; a SIGKILL would leave them running.
  ~Ballast();
  Ballast(const Ballast&) = delete;
  Ballast& operator=(const Ballast&) = delete;
  uint16_t port() const { return port_; }
  uint16_t admin_port() const { return admin_port_; }
  Process& process() { return *process_; }
  bool ready() const { return ready_; }
  // Rewrites the configuration file (same substitutions), for reload tests.
  void rewrite_config(std::string yaml) const;
  const std::string& config_path() const { return config_path_; }
  const std::string& log_path() const { return log_path_; }

 private:
  std::string render(std::string yaml) const;
  uint16_t port_;
  uint16_t admin_port_;
  std::string config_path_;
  std::string log_path_;
  bool ready_ = false;
  std::unique_ptr<Process> process_;
};

std::string replace_all(std::string text, const std::string& from, const std::string& to);

// "127.0.0.1:PORT".
std::string loopback(uint16_t port);

// Milliseconds from `from` to `to` (now unless given), for the timings a test reports.
inline long long ms_since(
    std::chrono::steady_clock::time_point from,
    std::chrono::steady_clock::time_point to = std::chrono::steady_clock::now()) {
  return static_cast<long long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count());
}

// Polls `pred` every 50 ms until it holds or `seconds` pass; whether it held.
template <typename Pred>
bool within(int seconds, Pred pred) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace ballast::test

namespace ballast::test {

// A one-listener, one-group configuration in front of `target_ports` (weights optional).
// `listener_extra` / `group_extra` are YAML lines indented by four spaces.
std::string proxy_config(const std::vector<uint16_t>& target_ports,
                         const std::string& group_extra = "",
                         const std::string& listener_extra = "", int workers = 1,
                         const std::vector<int>& weights = {});

}  // namespace ballast::test
