#include "db/switchover_call.h"

#include <nlohmann/json.hpp>

namespace ballast::db {

namespace {
// Patroni's POST /switchover waits for the new leader (up to 20 s at its defaults).
constexpr int64_t kSwitchoverTimeoutMs = 40000;
constexpr int64_t kClusterTimeoutMs = 3000;
}  // namespace

SwitchoverCall::SwitchoverCall(core::EventLoop& loop, http::HttpUrl leader_rest,
                               std::string leader_address, std::string candidate_address, Done done)
    : loop_(loop),
      rest_(std::move(leader_rest)),
      leader_address_(std::move(leader_address)),
      candidate_address_(std::move(candidate_address)),
      done_(std::move(done)) {}

SwitchoverCall::~SwitchoverCall() {
  http::retire(loop_, std::move(call_));
}

http::HttpCallRequest SwitchoverCall::request(const std::string& method,
                                              const std::string& path) const {
  http::HttpCallRequest r;
  r.method = method;
  r.address = rest_.address;
  r.host = rest_.host;
  r.path = path;
  r.user_agent = "ballast-db";
  return r;
}

void SwitchoverCall::start() {
  call_ =
      std::make_unique<http::HttpCall>(loop_, request("GET", "/cluster"), kClusterTimeoutMs,
                                       [this](const http::HttpCallResult& r) { got_cluster(r); });
  call_->start();
}

std::string SwitchoverCall::name_at(const std::string& cluster_body, const std::string& address) {
  nlohmann::json doc = nlohmann::json::parse(cluster_body, nullptr, false);
  if (!doc.is_object() || !doc.contains("members") || !doc["members"].is_array()) return "";
  for (const auto& m : doc["members"]) {
    if (!m.is_object() || !m.contains("host") || !m.contains("port") || !m.contains("name")) {
      continue;
    }
    if (!m["host"].is_string() || !m["port"].is_number_integer() || !m["name"].is_string()) {
      continue;
    }
    std::string at = m["host"].get<std::string>() + ":" + std::to_string(m["port"].get<int>());
    if (at == address) return m["name"].get<std::string>();
  }
  return "";
}

void SwitchoverCall::got_cluster(const http::HttpCallResult& r) {
  http::retire(loop_, std::move(call_));
  if (!r.answered || r.status != 200) {
    finish(false, "the primary's agent did not list the cluster: " +
                      (r.answered ? "status " + std::to_string(r.status) : r.error));
    return;
  }
  std::string leader = name_at(r.body, leader_address_);
  if (leader.empty()) {
    finish(false, "Patroni lists no member at " + leader_address_ +
                      " (the primary's address in the configuration)");
    return;
  }
  nlohmann::json body = {{"leader", leader}};
  if (!candidate_address_.empty()) {
    std::string candidate = name_at(r.body, candidate_address_);
    if (candidate.empty()) {
      finish(false, "Patroni lists no member at " + candidate_address_);
      return;
    }
    body["candidate"] = candidate;
  }
  http::HttpCallRequest post = request("POST", "/switchover");
  post.content_type = "application/json";
  post.body = body.dump();
  call_ = std::make_unique<http::HttpCall>(
      loop_, std::move(post), kSwitchoverTimeoutMs,
      [this](const http::HttpCallResult& answer) { got_answer(answer); });
  call_->start();
}

void SwitchoverCall::got_answer(const http::HttpCallResult& r) {
  http::retire(loop_, std::move(call_));
  if (!r.answered) {
    finish(false, "Patroni did not answer the switchover: " + r.error);
    return;
  }
  finish(r.status == 200, "Patroni: " + r.body + " (status " + std::to_string(r.status) + ")");
}

void SwitchoverCall::finish(bool ok, const std::string& message) {
  if (!done_) return;
  Done done = std::move(done_);
  done_ = nullptr;
  done(ok, message);
}

}  // namespace ballast::db
