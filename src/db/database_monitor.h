#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cluster/etcd_client.h"
#include "cluster/key_watch.h"
#include "config/config.h"
#include "core/event_loop.h"
#include "core/timer_queue.h"
#include "db/database_state.h"
#include "db/patroni_keys.h"
#include "db/pg_probe.h"
#include "db/switchover_call.h"
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
  // writer (the activities say how).
  using Changed = std::function<void()>;

  DatabaseMonitor(core::EventLoop& loop, config::DatabaseConfig config, Changed changed);
  ~DatabaseMonitor();
  DatabaseMonitor(const DatabaseMonitor&) = delete;
  DatabaseMonitor& operator=(const DatabaseMonitor&) = delete;

  void start();
  // Members found in Patroni's keys (patroni.etcd without members), and the watch's state.
  bool discovers() const { return config_.members.empty(); }
  const PatroniKeys* keys() const { return keys_.get(); }
  const cluster::KeyWatch* keys_watch() const { return keys_watch_.get(); }
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
  // Activities so far by cause ("started", "lost", "restarted", "failover", "switchover",
  // "reader", "members").
  const std::map<std::string, uint64_t>& changes_by_cause() const { return changes_by_cause_; }
  // How long the writer was without a confirmed primary before its latest one (ms).
  int64_t last_without_ms() const { return last_without_ms_; }
  const std::deque<Activity>& activities() const { return activities_; }
  // A planned switchover (`ballast ctl db switchover`), in two steps so that no new
  // connection reaches the primary once Patroni starts to demote it:
  // begin_switchover() holds the writer's new connections (the caller publishes that to the
  // workers), request_switchover() then asks Patroni. The hold ends when another member is
  // confirmed, when Patroni refuses, or after hold_ms.
  struct Switchover {
    enum class Phase : uint8_t { kNone, kHolding, kRequested, kDone, kFailed };
    Phase phase = Phase::kNone;
    std::string from, to;  // member names (`to` "": Patroni's choice)
    std::string message;
    int64_t started_unix_ms = 0;
    int64_t ended_unix_ms = 0;
  };
  // "" when started; else why not (no primary, unknown or unsuitable candidate, one under way).
  std::string begin_switchover(const std::string& to);
  void request_switchover();
  const Switchover& switchover() const { return switchover_; }
  static const char* to_string(Switchover::Phase phase);
  void record(std::string cause, std::string description);

 private:
  struct Poller {
    DatabaseMonitor* monitor = nullptr;
    size_t member = 0;
    http::HttpUrl url;
    std::unique_ptr<http::HttpCall> call;  // asking Patroni's agent
    std::unique_ptr<PgProbe> probe;        // asking PostgreSQL itself (no Patroni)
    bool heard = false;
    bool again = false;  // ask again as soon as the call in flight returns
    int64_t started_ms = 0;
    // A call's answer may come after a rebuild replaced its poller: it then finds this gone.
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
    core::Timer timer{&Poller::on_timer, this};
    static void on_timer(void* self);
  };
  // The members to follow (the configuration's, or Patroni's keys' when discovered): a new
  // state and new pollers, and nothing reported until every member was asked once.
  void follow(const std::vector<config::DatabaseConfig::Member>& members);
  void discovered();
  // The leader key changed: ask that member (or, with none, every member) now.
  void leader_changed(const std::string& leader);
  void ask_now(Poller& p);

  void ask(Poller& p);
  void answered(Poller& p, const http::HttpCallResult& result);
  // A member's status came (or not, and why): the state decides, the next check is set.
  void got(Poller& p, const std::optional<PatroniStatus>& status, const std::string& error);
  std::string conninfo(const config::DatabaseConfig::Member& m) const;
  void note_changes(const std::vector<WriterChange>& changes);
  static ReaderPolicy policy_of(const config::DatabaseConfig& c);
  // Decides from the latest answers; true when a published state or reason changed.
  bool decide(int64_t now_ms);
  bool switchover_under_way() const;
  void switchover_answered(bool ok, const std::string& message);
  void end_switchover(Switchover::Phase phase, const std::string& message);
  static void on_switchover_deadline(void* self);

  core::EventLoop& loop_;
  config::DatabaseConfig config_;
  Changed changed_;
  DatabaseState state_;
  std::vector<std::unique_ptr<Poller>> pollers_;
  // With patroni.etcd: Patroni's keys (members, leader key) through a watch of their prefix.
  std::unique_ptr<cluster::EtcdClient> etcd_;
  std::unique_ptr<PatroniKeys> keys_;
  std::unique_ptr<cluster::KeyWatch> keys_watch_;
  std::vector<std::pair<EndpointVerdict, EndpointVerdict>> published_;  // state + reason only
  bool settled_ = false;
  uint64_t checks_ = 0;
  uint64_t failed_checks_ = 0;
  std::map<std::string, uint64_t> changes_by_cause_;
  int64_t last_without_ms_ = 0;
  Switchover switchover_;
  std::unique_ptr<SwitchoverCall> switchover_call_;
  core::Timer switchover_timer_{&DatabaseMonitor::on_switchover_deadline, this};
  std::deque<Activity> activities_;  // the latest, newest last
  bool had_fresh_replicas_ = true;
};

}  // namespace ballast::db
