#include "support/test_env.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace ballast::test {

namespace {
// Every directory a test made, removed when the test program exits (failures print the
// logs they need in their assertion messages first).
struct TempDirs {
  std::vector<std::string> dirs;
  ~TempDirs() {
    std::error_code ignored;
    for (const auto& d : dirs) std::filesystem::remove_all(d, ignored);
  }
};
TempDirs& temp_dirs() {
  static TempDirs dirs;
  return dirs;
}
}  // namespace

std::string make_temp_dir() {
  char tmpl[] = "/tmp/ballast-test-XXXXXX";
  char* dir = mkdtemp(tmpl);
  if (dir == nullptr) return "/tmp";
  temp_dirs().dirs.push_back(dir);
  return dir;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

bool wait_for_port(uint16_t port, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = loopback_sockaddr(port);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

DemoBackend::DemoBackend(const std::string& id) : port_(free_port()) {
  std::string dir = make_temp_dir();
  std::vector<std::string> argv = {BALLAST_BINARY, "backend", "--port", std::to_string(port_)};
  if (!id.empty()) {
    argv.push_back("--id");
    argv.push_back(id);
  }
  process_ = std::make_unique<Process>(argv, dir + "/backend.log");
  wait_for_port(port_);
}

Ballast::Ballast(std::string yaml) : Ballast(std::move(yaml), free_port()) {}

Ballast::Ballast(std::string yaml, uint16_t port) : port_(port), admin_port_(free_port()) {
  std::string dir = make_temp_dir();
  config_path_ = dir + "/ballast.yaml";
  log_path_ = dir + "/ballast.log";
  rewrite_config(std::move(yaml));
  process_ = std::make_unique<Process>(
      std::vector<std::string>{BALLAST_BINARY, "run", "-c", config_path_}, log_path_);
  ready_ = wait_for_port(port_) && wait_for_port(admin_port_);
}

Ballast::~Ballast() {
  if (process_ && process_->running()) {
    process_->signal(SIGTERM);
    process_->wait_exit(5000);
  }
}

std::string Ballast::render(std::string yaml) const {
  bool has_admin = yaml.rfind("admin:", 0) == 0 || yaml.find("\nadmin:") != std::string::npos;
  if (!has_admin) yaml += "admin:\n  bind: 127.0.0.1:${ADMIN_PORT}\n";
  yaml = replace_all(std::move(yaml), "${ADMIN_PORT}", std::to_string(admin_port_));
  return replace_all(std::move(yaml), "${PORT}", std::to_string(port_));
}

void Ballast::rewrite_config(std::string yaml) const {
  // Written beside and renamed over, so a reload never reads half a file.
  write_file(config_path_ + ".new", render(std::move(yaml)));
  std::rename((config_path_ + ".new").c_str(), config_path_.c_str());
}

}  // namespace ballast::test

namespace ballast::test {

std::string proxy_config(const std::vector<uint16_t>& target_ports, const std::string& group_extra,
                         const std::string& listener_extra, int workers,
                         const std::vector<int>& weights) {
  std::string y = "workers: " + std::to_string(workers) + "\nshutdown_timeout: 10s\n";
  y += "listeners:\n  - name: web\n    bind: 127.0.0.1:${PORT}\n" + listener_extra;
  y += "    rules:\n      - forward: { target_group: app }\n";
  y += "target_groups:\n  - name: app\n" + group_extra + "    targets:\n";
  for (size_t i = 0; i < target_ports.size(); ++i) {
    y += "      - { address: 127.0.0.1:" + std::to_string(target_ports[i]);
    if (i < weights.size()) y += ", weight: " + std::to_string(weights[i]);
    y += " }\n";
  }
  return y;
}

std::string loopback(uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

}  // namespace ballast::test
