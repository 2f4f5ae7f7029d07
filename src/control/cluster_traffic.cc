#include "control/cluster_traffic.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "control/cluster_series.h"
#include "core/log.h"

namespace ballast::control {

namespace {
constexpr int64_t kCallTimeoutMs = 800;  // within the second before the next poll
}  // namespace

ClusterTraffic::ClusterTraffic(core::EventLoop& loop, std::string bearer_token,
                               metrics::TimeSeriesStore& series)
    : loop_(loop), bearer_token_(std::move(bearer_token)), series_(series) {}

ClusterTraffic::~ClusterTraffic() {
  for (auto& [name, p] : peers_) {
    http::retire(loop_, std::move(p.call));
  }
}

void ClusterTraffic::poll(const std::map<std::string, std::string>& peers) {
  // Called after the second's takes: what is left belongs to targets no policy counts.
  pending_requests_.clear();
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (peers.count(it->first) != 0) {
      ++it;
      continue;
    }
    http::retire(loop_, std::move(it->second.call));
    it = peers_.erase(it);
  }
  for (const auto& [name, admin] : peers) {
    Peer& p = peers_[name];
    if (p.admin != admin) {
      p.admin = admin;
      p.requests = {};  // another process: its counts start anew
      p.in_flight.clear();
      p.series_until = 0;
    }
    if (p.call) continue;  // the last call is still out
    std::string error;
    auto address = core::SocketAddress::parse(admin, &error, false);
    if (!address) {
      p.error = "admin API \"" + admin + "\": " + error;
      p.in_flight.clear();
      continue;
    }
    http::HttpCallRequest request;
    request.address = *address;
    request.host = admin;
    request.path = "/api/v1/cluster/traffic?since=" + std::to_string(p.series_until);
    request.user_agent = "ballast-cluster";
    if (!bearer_token_.empty())
      request.extra_headers = "Authorization: Bearer " + bearer_token_ + "\r\n";
    std::string peer = name;
    p.call = std::make_unique<http::HttpCall>(
        loop_, std::move(request), kCallTimeoutMs,
        [this, peer](const http::HttpCallResult& r) { answered(peer, r); });
    p.call->start();
  }
}

void ClusterTraffic::answered(const std::string& name, const http::HttpCallResult& r) {
  auto it = peers_.find(name);
  if (it == peers_.end()) return;
  Peer& p = it->second;
  http::retire(loop_, std::move(p.call));
  nlohmann::json body =
      r.answered && r.status == 200 ? nlohmann::json::parse(r.body, nullptr, false) : nullptr;
  if (!body.is_object() || !body.contains("targets") || !body["targets"].is_array()) {
    std::string why = !r.answered       ? r.error
                      : r.status != 200 ? "HTTP " + std::to_string(r.status)
                                        : "not a traffic report";
    if (p.error.empty()) {
      LOG_WARN(
          "cluster: no traffic counts from %s (%s): %s; the autoscaler's policies see "
          "only the other nodes' traffic",
          name.c_str(), p.admin.c_str(), why.c_str());
    }
    p.error = why;
    p.in_flight.clear();  // stale: counted as nothing rather than as the last word
    return;
  }
  if (!p.error.empty()) LOG_INFO("cluster: traffic counts from %s again", name.c_str());
  p.error.clear();
  p.in_flight.clear();
  for (const auto& t : body["targets"]) {
    if (!t.is_object() || !t.contains("group") || !t.contains("address")) continue;
    Target key{t.value("group", ""), t.value("address", "")};
    p.in_flight[key] = t.value("in_flight", 0.0);
    pending_requests_[key] += p.requests.delta(key, t.value("requests", 0.0));
  }
  std::string error;
  if (body.contains("series") && !add_series(body["series"], series_, &error)) {
    LOG_WARN("cluster: the series from %s: %s", name.c_str(), error.c_str());
  }
  p.series_until = std::max(p.series_until, body.value("series_until", int64_t{0}));
}

ClusterTraffic::Share ClusterTraffic::take(const std::string& group, const std::string& address) {
  Target key{group, address};
  Share s;
  auto it = pending_requests_.find(key);
  if (it != pending_requests_.end()) {
    s.requests = it->second;
    pending_requests_.erase(it);
  }
  for (const auto& [name, p] : peers_) {
    auto f = p.in_flight.find(key);
    if (f != p.in_flight.end()) s.in_flight += f->second;
  }
  return s;
}

std::string ClusterTraffic::problems() const {
  std::string out;
  for (const auto& [name, p] : peers_) {
    if (!p.error.empty()) out += (out.empty() ? "" : "; ") + name + ": " + p.error;
  }
  return out;
}

}  // namespace ballast::control
