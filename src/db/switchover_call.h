#pragma once
#include <functional>
#include <memory>
#include <string>

#include "core/event_loop.h"
#include "http/http_call.h"
#include "http/url.h"

namespace ballast::db {

// Asks Patroni for a planned switchover, as `patronictl switchover` does: reads the
// cluster's member names from the leader's agent (`GET /cluster`; ballast knows members by
// their PostgreSQL address), then `POST /switchover` with the leader's name and the
// candidate's (none: Patroni picks). Patroni answers once the new leader holds the key, or
// says why it would not. On the control loop; `done` runs once, never inside start().
class SwitchoverCall {
 public:
  using Done = std::function<void(bool ok, const std::string& message)>;
  // `candidate_address`: the chosen member's PostgreSQL address ("": Patroni's choice).
  SwitchoverCall(core::EventLoop& loop, http::HttpUrl leader_rest, std::string leader_address,
                 std::string candidate_address, Done done);
  ~SwitchoverCall();
  SwitchoverCall(const SwitchoverCall&) = delete;
  SwitchoverCall& operator=(const SwitchoverCall&) = delete;

  void start();

  // From `GET /cluster`'s body: the Patroni name of the member at `address` (HOST:PORT), or
  // "" when none is. Pure, for the tests.
  static std::string name_at(const std::string& cluster_body, const std::string& address);

 private:
  void got_cluster(const http::HttpCallResult& r);
  void got_answer(const http::HttpCallResult& r);
  void finish(bool ok, const std::string& message);
  http::HttpCallRequest request(const std::string& method, const std::string& path) const;

  core::EventLoop& loop_;
  http::HttpUrl rest_;
  std::string leader_address_;
  std::string candidate_address_;
  Done done_;
  std::unique_ptr<http::HttpCall> call_;
};

}  // namespace ballast::db
