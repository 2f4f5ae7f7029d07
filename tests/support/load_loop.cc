#include "support/load_loop.h"

#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>

#include "support/http_client.h"

namespace ballast::test {

LoadLoop::LoadLoop(uint16_t port, int clients, std::string path, int max_requests)
    : done_by_client_(static_cast<size_t>(clients), 0) {
  for (int i = 0; i < clients; ++i) {
    threads_.emplace_back(
        [this, i, port, path, max_requests] { run(i, port, path, max_requests); });
  }
}

LoadLoop::~LoadLoop() {
  stop();
}

void LoadLoop::stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void LoadLoop::run(int client_index, uint16_t port, const std::string& path, int max_requests) {
  auto fail = [&](const std::string& what) {
    ++failed_;
    std::lock_guard<std::mutex> lock(mu_);
    if (first_failure_.empty()) first_failure_ = what;
  };
  auto client = std::make_unique<Client>(port);
  auto& done_here = done_by_client_[static_cast<size_t>(client_index)];
  for (int i = 0; i < max_requests && !stop_.load(); ++i) {
    if (!client->connected()) client = std::make_unique<Client>(port);
    auto r = client->get(path);
    ++done_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++done_here;
    }
    if (!r) {
      fail("request " + std::to_string(i) + ": no response");
      client = std::make_unique<Client>(port);
      continue;
    }
    if (r->status != 200) fail("status " + std::to_string(r->status) + ": " + r->body);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++instances_[r->header("x-ballast-instance")];
    }
    if (r->header("connection") == "close") client = std::make_unique<Client>(port);
  }
  std::lock_guard<std::mutex> lock(mu_);
  done_here = std::numeric_limits<int>::max() / 2;  // nothing more will come from it
}

std::map<std::string, int> LoadLoop::instances() const {
  std::lock_guard<std::mutex> lock(mu_);
  return instances_;
}

std::string LoadLoop::first_failure() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_failure_;
}

bool LoadLoop::wait_for_more(int n, int timeout_ms) const {
  int target = done_.load() + n;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (done_.load() < target) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::vector<int> LoadLoop::done_by_client() const {
  std::lock_guard<std::mutex> lock(mu_);
  return done_by_client_;
}

bool LoadLoop::wait_for_every_client(int n, int timeout_ms) const {
  std::vector<int> start = done_by_client();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    std::vector<int> now = done_by_client();
    bool all = true;
    for (size_t i = 0; i < now.size(); ++i) all = all && now[i] >= start[i] + n;
    if (all) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

AdminAnswer admin_call(uint16_t port, const std::string& method, const std::string& path,
                       const std::string& body, const std::string& extra_headers) {
  Client c(port);
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: admin\r\n" + extra_headers +
                        "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  if (!c.send_raw(request)) return {};
  auto r = c.read_response();
  if (!r) return {};
  return AdminAnswer{r->status, r->body};
}

std::string target_state(uint16_t admin_port, const std::string& group,
                         const std::string& address) {
  AdminAnswer a = admin_call(admin_port, "GET", "/api/v1/target-groups/" + group);
  auto j = nlohmann::json::parse(a.body, nullptr, false);
  if (!j.is_object()) return "no answer";
  for (const auto& t : j["targets"]) {
    if (t["address"] == address) return t["state"];
  }
  return "absent";
}

}  // namespace ballast::test
