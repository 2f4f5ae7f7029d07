#include "support/load_loop.h"

#include <nlohmann/json.hpp>

#include "core/thread_annotations.h"
#include "support/http_client.h"
#include "support/test_env.h"

namespace ballast::test {

LoadLoop::LoadLoop(uint16_t port, int clients, std::string path, int max_requests)
    : progress_(static_cast<size_t>(clients)) {
  for (size_t i = 0; i < progress_.size(); ++i) {
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

void LoadLoop::run(size_t client_index, uint16_t port, const std::string& path, int max_requests) {
  auto client = std::make_unique<Client>(port);
  for (int i = 0; i < max_requests && !stop_.load(); ++i) {
    if (!client->connected()) client = std::make_unique<Client>(port);
    auto r = client->get(path);
    std::string failure;
    if (!r) {
      failure = "request " + std::to_string(i) + ": no response";
    } else if (r->status != 200) {
      failure = "status " + std::to_string(r->status) + ": " + r->body;
    }
    {
      core::MutexLock lock(mu_);
      if (r) ++instances_[r->header("x-ballast-instance")];
      if (!failure.empty()) {
        ++failed_;
        if (first_failure_.empty()) first_failure_ = failure;
      }
      ++progress_[client_index].done;  // last: what it counts is recorded
    }
    if (!r || r->header("connection") == "close") client = std::make_unique<Client>(port);
  }
  core::MutexLock lock(mu_);
  progress_[client_index].ended = true;
}

std::vector<LoadLoop::Progress> LoadLoop::progress() const {
  core::MutexLock lock(mu_);
  return progress_;
}

int LoadLoop::done() const {
  int n = 0;
  for (const auto& p : progress()) n += p.done;
  return n;
}

int LoadLoop::failed() const {
  core::MutexLock lock(mu_);
  return failed_;
}

std::map<std::string, int> LoadLoop::instances() const {
  core::MutexLock lock(mu_);
  return instances_;
}

std::string LoadLoop::first_failure() const {
  core::MutexLock lock(mu_);
  return first_failure_;
}

bool LoadLoop::wait_for_more(int n) const {
  int target = done() + n;
  return within(20, [&] { return done() >= target; });
}

bool LoadLoop::wait_for_every_client(int n) const {
  std::vector<Progress> start = progress();
  return within(20, [&] {
    std::vector<Progress> now = progress();
    for (size_t i = 0; i < now.size(); ++i) {
      if (!now[i].ended && now[i].done < start[i].done + n) return false;
    }
    return true;
  });
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

int config_generation(uint16_t admin_port) {
  auto j =
      nlohmann::json::parse(admin_call(admin_port, "GET", "/api/v1/status").body, nullptr, false);
  return j.is_object() ? j["config_generation"].get<int>() : -1;
}

double metric_value(uint16_t admin_port, const std::string& series) {
  std::string text = admin_call(admin_port, "GET", "/metrics").body;
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

}  // namespace ballast::test
