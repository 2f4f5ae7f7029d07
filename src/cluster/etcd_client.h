#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/event_loop.h"
#include "http/http_call.h"
#include "http/url.h"
#include "tls/client_context.h"

namespace ballast::cluster {

// What an etcd call came back with.
struct Reply {
  bool ok = false;      // a 200 with a JSON body
  nlohmann::json body;  // the parsed body when ok
  std::string error;    // when not ok: what went wrong, naming the endpoint
};

// The etcd v3 JSON gateway, on the caller's event loop, never blocking it. Each call is one
// HTTP/1.1 POST on a connection of its own (etcd answers on loopback in well under a
// millisecond; the control thread makes a few calls a second). A call that cannot reach
// its endpoint, or that the member answers with a 5xx (no leader, say: a member cut off
// from the rest), is tried on the next endpoint, each endpoint once; the endpoint that
// answered is used first from then on.
//
// A secured etcd: https:// endpoints go over TLS (with a client certificate when given),
// and with a username every call carries the token /v3/auth/authenticate gave. Calls made
// while it is being fetched wait for it; a call refused for its token (expired: etcd's
// simple tokens last 5 minutes unused) fetches a new one and is sent again, once.
class EtcdClient {
 public:
  using Done = std::function<void(const Reply&)>;
  // The access was checked by the loader; a TLS file that went bad since makes every call
  // fail with the reason.
  EtcdClient(core::EventLoop& loop, const config::EtcdAccess& access, int64_t timeout_ms);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // POSTs `body` to `path` ("/v3/kv/range"). `done` runs once, on the loop, never inside
  // call(); not at all once the client is destroyed.
  void call(std::string path, const nlohmann::json& body, Done done);

  // A stream that does not end (a watch): each body chunk goes to `chunk` as it arrives,
  // `ended` runs once when the stream stops (why, in the reply's error). The caller owns the
  // returned call and stops the stream by destroying it (through defer_delete from inside
  // its callbacks).
  std::unique_ptr<http::HttpCall> open_stream(const std::string& path, const nlohmann::json& body,
                                              std::function<void(std::string_view)> chunk,
                                              std::function<void(const std::string&)> ended);

  const http::HttpUrl& endpoint() const { return endpoints_[current_]; }
  // Its access, the endpoint that answers last first (for revoke_lease_now).
  config::EtcdAccess access_from_current() const;
  // Moves to the next endpoint (a stream that broke, say).
  void rotate() { current_ = (current_ + 1) % endpoints_.size(); }

 private:
  struct Attempt {
    std::string path;
    std::string body;
    Done done;
    size_t tries_left = 0;
    std::string errors;          // of the endpoints tried so far
    bool token_renewed = false;  // sent again once with a fresh token already
  };
  void send(std::shared_ptr<Attempt> attempt);
  void answered(uint64_t id, std::shared_ptr<Attempt> attempt, const http::HttpCallResult& r);
  http::HttpCallRequest request_for(const std::string& path, const std::string& body) const;
  // Authentication: an attempt waits for the token (fetching it when nobody does).
  bool needs_token() const { return !access_.username.empty() && token_.empty(); }
  void wait_for_token(std::shared_ptr<Attempt> attempt);
  void authenticated(const Reply& reply);

  core::EventLoop& loop_;
  config::EtcdAccess access_;
  std::vector<http::HttpUrl> endpoints_;
  std::shared_ptr<const tls::ClientContext> tls_;
  std::string setup_error_;  // why no call can be made ("" when they can)
  std::string token_;
  bool authenticating_ = false;
  std::vector<std::shared_ptr<Attempt>> waiting_for_token_;
  size_t current_ = 0;
  int64_t timeout_ms_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<http::HttpCall>> calls_;  // in flight
};

// Revokes `lease` (and so deletes its keys) from a loop of its own, blocking up to
// `timeout_ms`: for a clean shutdown, once the control loop has stopped.
void revoke_lease_now(const config::EtcdAccess& access, int64_t lease, int64_t timeout_ms);

}  // namespace ballast::cluster
