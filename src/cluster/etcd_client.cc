#include "cluster/etcd_client.h"

#include <utility>

#include "cluster/etcd_codec.h"

namespace ballast::cluster {

EtcdClient::EtcdClient(core::EventLoop& loop, std::vector<http::HttpUrl> endpoints,
                       int64_t timeout_ms)
    : loop_(loop), endpoints_(std::move(endpoints)), timeout_ms_(timeout_ms) {}

EtcdClient::~EtcdClient() = default;

http::HttpCallRequest EtcdClient::request_for(const std::string& path,
                                              const std::string& body) const {
  http::HttpCallRequest r;
  r.method = "POST";
  r.address = endpoint().address;
  r.host = endpoint().host;
  r.path = path;
  r.content_type = "application/json";
  r.body = body;
  r.user_agent = "ballast-cluster";
  return r;
}

void EtcdClient::call(std::string path, const nlohmann::json& body, Done done) {
  auto attempt = std::make_shared<Attempt>();
  attempt->path = std::move(path);
  attempt->body = body.dump();
  attempt->done = std::move(done);
  attempt->tries_left = endpoints_.size();
  send(std::move(attempt));
}

void EtcdClient::send(std::shared_ptr<Attempt> attempt) {
  --attempt->tries_left;
  uint64_t id = next_id_++;
  auto call = std::make_unique<http::HttpCall>(
      loop_, request_for(attempt->path, attempt->body), timeout_ms_,
      [this, id, attempt](const http::HttpCallResult& r) { answered(id, attempt, r); },
      size_t{16} << 20);
  http::HttpCall* started = call.get();
  calls_.emplace(id, std::move(call));
  started->start();
}

void EtcdClient::answered(uint64_t id, std::shared_ptr<Attempt> attempt,
                          const http::HttpCallResult& r) {
  auto it = calls_.find(id);
  if (it != calls_.end()) {
    loop_.defer_delete([call = it->second.release()] { delete call; });
    calls_.erase(it);
  }
  Reply reply;
  std::string where = "etcd " + endpoint().host + attempt->path;
  if (r.answered) {
    try {
      reply.body = nlohmann::json::parse(r.body);
    } catch (const nlohmann::json::exception&) {
      reply.body = nlohmann::json();
    }
    if (r.status == 200 && reply.body.is_object()) {
      reply.ok = true;
      attempt->done(reply);
      return;
    }
    std::string why = error_message(reply.body);
    reply.error = where + ": HTTP " + std::to_string(r.status) + (why.empty() ? "" : ": " + why);
    // A 4xx is the request's fault: another member would say the same.
    if (r.status < 500) {
      attempt->done(reply);
      return;
    }
  } else {
    reply.error = where + ": " + r.error;
  }
  attempt->errors += (attempt->errors.empty() ? "" : "; ") + reply.error;
  rotate();
  if (attempt->tries_left > 0) return send(std::move(attempt));
  reply.error = attempt->errors;
  attempt->done(reply);
}

std::unique_ptr<http::HttpCall> EtcdClient::open_stream(
    const std::string& path, const nlohmann::json& body,
    std::function<void(std::string_view)> chunk, std::function<void(const std::string&)> ended) {
  std::string where = "etcd " + endpoint().host + path;
  auto call = std::make_unique<http::HttpCall>(
      loop_, request_for(path, body.dump()), timeout_ms_,
      [where, ended = std::move(ended)](const http::HttpCallResult& r) {
        std::string why =
            r.answered ? "the stream ended (HTTP " + std::to_string(r.status) + ")" : r.error;
        ended(where + ": " + why);
      },
      size_t{1} << 20);
  call->stream_body(std::move(chunk));
  call->start();
  return call;
}

void revoke_lease_now(const http::HttpUrl& endpoint, int64_t lease, int64_t timeout_ms) {
  core::EventLoop loop;
  EtcdClient etcd(loop, {endpoint}, timeout_ms);
  loop.post([&] {
    loop.update_time();
    etcd.call("/v3/lease/revoke", nlohmann::json{{"ID", std::to_string(lease)}},
              [&](const Reply&) { loop.stop(); });
  });
  loop.run();
}

}  // namespace ballast::cluster
