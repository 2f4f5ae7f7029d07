#include "cluster/etcd_client.h"

#include <algorithm>
#include <utility>

#include "cluster/etcd_codec.h"
#include "core/log.h"

namespace ballast::cluster {

EtcdClient::EtcdClient(core::EventLoop& loop, const config::EtcdAccess& access, int64_t timeout_ms)
    : loop_(loop), access_(access), timeout_ms_(timeout_ms) {
  for (const auto& url : access.endpoints) {
    http::HttpUrl parsed;
    std::string error;
    if (http::parse_http_url(url, &parsed, &error, http::Schemes::kHttpOrHttps)) {
      endpoints_.push_back(parsed);
    } else {
      setup_error_ = error;
    }
  }
  if (endpoints_.empty()) {
    if (setup_error_.empty()) setup_error_ = "no etcd endpoint";
    endpoints_.push_back({});  // endpoint() stays valid; nothing is sent
    return;
  }
  if (!access.https()) return;
  try {
    tls::ClientSettings settings;
    settings.ca_file = access.ca_file;
    settings.cert_file = access.cert_file;
    settings.key_file = access.key_file;
    tls_ = tls::ClientContext::build(settings);
  } catch (const tls::Error& e) {
    setup_error_ = std::string("TLS to etcd: ") + e.what();
  }
}

EtcdClient::~EtcdClient() = default;

config::EtcdAccess EtcdClient::access_from_current() const {
  config::EtcdAccess a = access_;
  if (current_ < a.endpoints.size())
    std::rotate(a.endpoints.begin(), a.endpoints.begin() + static_cast<long>(current_),
                a.endpoints.end());
  return a;
}

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
  r.tls = tls_;
  // etcd's gateway takes the bare token in Authorization.
  if (!token_.empty() && path != "/v3/auth/authenticate")
    r.extra_headers = "Authorization: " + token_ + "\r\n";
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

void EtcdClient::wait_for_token(std::shared_ptr<Attempt> attempt) {
  waiting_for_token_.push_back(std::move(attempt));
  if (authenticating_) return;
  authenticating_ = true;
  auto fetch = std::make_shared<Attempt>();
  fetch->path = "/v3/auth/authenticate";
  fetch->body = nlohmann::json{{"name", access_.username}, {"password", access_.password}}.dump();
  fetch->done = [this](const Reply& reply) { authenticated(reply); };
  fetch->tries_left = endpoints_.size();
  send(std::move(fetch));
}

void EtcdClient::authenticated(const Reply& reply) {
  authenticating_ = false;
  std::vector<std::shared_ptr<Attempt>> waiting = std::move(waiting_for_token_);
  waiting_for_token_.clear();
  std::string token = reply.ok ? reply.body.value("token", std::string()) : std::string();
  if (token.empty()) {
    Reply failed;
    failed.error = "etcd refused user \"" + access_.username +
                   "\": " + (reply.ok ? "no token in its answer" : reply.error);
    for (auto& a : waiting) a->done(failed);
    return;
  }
  token_ = token;
  for (auto& a : waiting) send(std::move(a));
}

void EtcdClient::send(std::shared_ptr<Attempt> attempt) {
  if (!setup_error_.empty()) {
    loop_.post([attempt, why = setup_error_] {
      Reply r;
      r.error = why;
      attempt->done(r);
    });
    return;
  }
  if (needs_token() && attempt->path != "/v3/auth/authenticate") {
    return wait_for_token(std::move(attempt));
  }
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
    http::retire(loop_, std::move(it->second));
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
    if (why.empty()) why = r.body.substr(0, 200);  // not etcd's JSON: what came instead
    while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
    reply.error = where + ": HTTP " + std::to_string(r.status) + (why.empty() ? "" : ": " + why);
    // A token etcd no longer knows (it expired, or etcd restarted): a fresh one, once.
    if (r.status == 401 && !access_.username.empty() && !attempt->token_renewed &&
        attempt->path != "/v3/auth/authenticate") {
      attempt->token_renewed = true;
      ++attempt->tries_left;
      if (!token_.empty()) {
        LOG_INFO(
            "etcd: %s refused the token of user \"%s\" (it expired, or etcd restarted): "
            "authenticating again",
            endpoint().host.c_str(), access_.username.c_str());
      }
      token_.clear();
      return wait_for_token(std::move(attempt));
    }
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

void revoke_lease_now(const config::EtcdAccess& access, int64_t lease, int64_t timeout_ms) {
  core::EventLoop loop;
  EtcdClient etcd(loop, access, timeout_ms);
  loop.post([&] {
    loop.update_time();
    etcd.call("/v3/lease/revoke", nlohmann::json{{"ID", std::to_string(lease)}},
              [&](const Reply&) { loop.stop(); });
  });
  loop.run();
}

}  // namespace ballast::cluster
