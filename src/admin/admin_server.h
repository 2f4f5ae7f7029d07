#pragma once
#include <functional>
#include <memory>
#include <string>

#include "core/completion.h"
#include "core/event_loop.h"
#include "core/socket_address.h"

namespace ballast::admin {

struct AdminRequest {
  std::string method;
  std::string path;   // percent-decoded, without the query
  std::string query;  // raw, after "?"
  std::string body;
};

struct AdminResponse;

// An answer that comes later: the handler returns at once with `later` set, and whoever
// learns the outcome (an etcd write and its watch event, say) gives the answer, on the
// loop. Unanswered after the request deadline, the client gets a 504.
class LaterAnswer {
 public:
  void give(AdminResponse r);
  void when_given(std::function<void(AdminResponse)> fn);

 private:
  std::function<void(AdminResponse)> waiter_;
  std::unique_ptr<AdminResponse> given_;
};

struct AdminResponse {
  AdminResponse() = default;
  AdminResponse(int s, std::string b, std::string type = "application/json")
      : status(s), body(std::move(b)), content_type(std::move(type)) {}

  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string allow;  // a 405's Allow header: the methods the path takes
  // A change that is recorded but not yet in effect everywhere (the workers apply it on
  // their own threads): the answer waits for it, up to a few seconds, so that a client
  // acting on the answer finds the change in place.
  std::shared_ptr<core::Completion> in_effect;
  // The answer is not known yet (see LaterAnswer); the other fields are unused.
  std::shared_ptr<LaterAnswer> later;
};

inline void LaterAnswer::give(AdminResponse r) {
  if (given_) return;
  if (waiter_) {
    auto fn = std::move(waiter_);
    waiter_ = nullptr;
    fn(std::move(r));
    return;
  }
  given_ = std::make_unique<AdminResponse>(std::move(r));
}

inline void LaterAnswer::when_given(std::function<void(AdminResponse)> fn) {
  if (given_) {
    AdminResponse r = std::move(*given_);
    fn(std::move(r));
    return;
  }
  waiter_ = std::move(fn);
}

// The admin API's HTTP/1.1 server, on the control thread's event loop. Small on purpose:
// one request per connection (answered with Connection: close), bodies up to 1 MiB, a
// bearer token when configured, and every request bounded by a 10 s deadline, so a slow
// or hostile client cannot hold the control thread.
class AdminServer {
 public:
  using Handler = std::function<AdminResponse(const AdminRequest&)>;
  AdminServer(core::EventLoop& loop, Handler handler);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Starts listening (false and `error` when the address cannot be bound).
  bool open(const core::SocketAddress& bind, std::string* error);
  // Serves on a listening socket already bound (handed over by the process this one
  // replaces); takes ownership of `fd`.
  void adopt(int fd);
  // The listening socket, to hand over (-1: none).
  int listening_fd() const;
  void close();
  // Empty: no authentication (the default bind is loopback only).
  void set_token(std::string token) { token_ = std::move(token); }
  // Paths served without the token: the dashboard's static files, which hold no data
  // (the page sends the token with its API calls).
  void set_public_paths(std::function<bool(const std::string&)> is_public) {
    is_public_ = std::move(is_public);
  }
  const core::SocketAddress& address() const { return bound_; }

 private:
  class Connection;
  class Acceptor;
  friend class Connection;
  AdminResponse handle(const AdminRequest& request, std::string_view authorization) const;
  void closed(Connection* c);

  core::EventLoop& loop_;
  Handler handler_;
  std::string token_;
  std::function<bool(const std::string&)> is_public_;
  core::SocketAddress bound_;
  std::unique_ptr<Acceptor> acceptor_;
  Connection* connections_ = nullptr;  // intrusive list, for close()
};

// JSON error body: {"error": "..."}.
AdminResponse error_response(int status, const std::string& message);

}  // namespace ballast::admin
