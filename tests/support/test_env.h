#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/process.h"

namespace ballast::test {

// A fresh directory for this test's files (configs, logs), under the build tree's /tmp.
std::string make_temp_dir();
void write_file(const std::string& path, const std::string& text);
// A TCP port that was free a moment ago (the kernel picks it).
uint16_t free_port();
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
// port, which becomes port().
class Ballast {
 public:
  explicit Ballast(std::string yaml);
  uint16_t port() const { return port_; }
  Process& process() { return *process_; }
  bool ready() const { return ready_; }

 private:
  uint16_t port_;
  bool ready_ = false;
  std::unique_ptr<Process> process_;
};

std::string replace_all(std::string text, const std::string& from, const std::string& to);

}  // namespace ballast::test

namespace ballast::test {

// A one-listener, one-group configuration in front of `target_ports` (weights optional).
// `listener_extra` / `group_extra` are YAML lines indented by four spaces.
std::string proxy_config(const std::vector<uint16_t>& target_ports,
                         const std::string& group_extra = "",
                         const std::string& listener_extra = "", int workers = 1,
                         const std::vector<int>& weights = {});

}  // namespace ballast::test
