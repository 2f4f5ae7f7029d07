#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/event_loop.h"
#include "core/timer_queue.h"
#include "db/database_state.h"
#include "http/http_call.h"
#include "http/url.h"

namespace ballast::db {

// A role change as the activity log keeps it: when, what, and why.
struct Activity {
  int64_t unix_ms = 0;
  std::string cause;  // "failover", "switchover", "lost", "started"
  std::string description;
};

// Follows one Patroni cluster from the control thread's loop: asks each member's agent for
// `GET /primary` every check_interval (one call in flight per member, each bounded by
// check_timeout), feeds the answers to a DatabaseState and reports what changed. Never on
// the request path.
class DatabaseMonitor {
 public:
  // Called after an answer changed an endpoint's state or reason for some member, or the
  // writer: `changes` are the writer's (possibly none).
  using Changed = std::function<void(const std::vector<WriterChange>& changes)>;

  DatabaseMonitor(core::EventLoop& loop, config::DatabaseConfig config, Changed changed);
  ~DatabaseMonitor();
  DatabaseMonitor(const DatabaseMonitor&) = delete;
  DatabaseMonitor& operator=(const DatabaseMonitor&) = delete;

  void start();
  // A reload kept the members and scope: the new endpoint settings apply from the next check.
  void reconfigure(const config::DatabaseConfig& config);
  // Whether `config` needs a new monitor (other members or scope) rather than reconfigure().
  bool same_cluster(const config::DatabaseConfig& config) const;

  const config::DatabaseConfig& config() const { return config_; }
  const DatabaseState& state() const { return state_; }
  // Until every member was asked once, nothing is reported (a member not yet heard from
  // would read as fenced).
  bool settled() const { return settled_; }
  uint64_t checks() const { return checks_; }
  uint64_t failed_checks() const { return failed_checks_; }
  uint64_t promotions() const { return promotions_; }
  const std::deque<Activity>& activities() const { return activities_; }
  // A switchover ballast asked for is under way: the next promotion is one.
  void expect_switchover(int64_t until_ms) { switchover_until_ms_ = until_ms; }
  void record(std::string cause, std::string description);

 private:
  struct Poller {
    DatabaseMonitor* monitor = nullptr;
    size_t member = 0;
    http::HttpUrl url;
    std::unique_ptr<http::HttpCall> call;
    bool heard = false;
    int64_t started_ms = 0;
    core::Timer timer{&Poller::on_timer, this};
    static void on_timer(void* self);
  };

  void ask(Poller& p);
  void answered(Poller& p, const http::HttpCallResult& result);
  void note_changes(const std::vector<WriterChange>& changes);
  static ReaderPolicy policy_of(const config::DatabaseConfig& c);

  core::EventLoop& loop_;
  config::DatabaseConfig config_;
  Changed changed_;
  DatabaseState state_;
  std::vector<std::unique_ptr<Poller>> pollers_;
  std::vector<std::pair<EndpointVerdict, EndpointVerdict>> published_;  // state + reason only
  bool settled_ = false;
  uint64_t checks_ = 0;
  uint64_t failed_checks_ = 0;
  uint64_t promotions_ = 0;
  int64_t switchover_until_ms_ = 0;
  std::deque<Activity> activities_;  // the latest, newest last
};

}  // namespace ballast::db
