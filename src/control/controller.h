#pragma once
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "acme/manager.h"
#include "admin/admin_server.h"
#include "admin/router.h"
#include "alarms/alarm_manager.h"
#include "alarms/webhook.h"
#include "cache/store.h"
#include "cluster/node.h"
#include "cluster/snapshot.h"
#include "config/config.h"
#include "config/config_loader.h"
#include "control/autoscaler.h"
#include "control/cluster_traffic.h"
#include "control/handover.h"
#include "control/metrics_collector.h"
#include "control/target_registry.h"
#include "control/track_guard.h"
#include "control/upgrade_watch.h"
#include "control/writer_nat.h"
#include "core/completion.h"
#include "core/event_loop.h"
#include "core/timer_queue.h"
#include "db/database_monitor.h"
#include "health/target_checker.h"
#include "metrics/metrics_registry.h"
#include "metrics/prometheus.h"
#include "metrics/time_series.h"
#include "metrics/totals.h"
#include "proxy/circuit_breaker.h"
#include "proxy/control_link.h"
#include "proxy/worker.h"
#include "tls/ticket_keys.h"

namespace ballast::control {

// A change to a registered target, as the admin API asks for it.
struct TargetOp {
  enum class Kind { kRegister, kDeregister, kWeight, kDrain, kUndrain };
  Kind kind = Kind::kRegister;
  std::string group;
  std::string address;
  uint32_t weight = 1;  // kRegister, kWeight

  // The answer to the change once done: its status, body and the log's words.
  struct Answer {
    int status = 200;
    nlohmann::json body;
    std::string what;
  };
  Answer answer() const;
};
// The change, made in `registry`.
TargetRegistry::Outcome apply_target_op(TargetRegistry& registry, const TargetOp& op,
                                        int64_t now_ms);

// What the latest reload did, for the log and the API.
struct ReloadStatus {
  uint64_t generation = 1;  // configurations applied so far, the first included
  int64_t last_attempt_unix = 0;
  bool last_ok = true;
  std::vector<std::string> errors;  // of the latest attempt, "file:line:col: message"
};

// The control thread: owns the workers, runs the health checks, keeps the target
// registry, serves the admin API, reloads the configuration, and handles signals. It
// never touches a worker's state: it posts immutable memberships and reloads to them.
class Controller final : public proxy::ControlLink {
 public:
  // `ticket_keys`: the TLS session ticket keys `config` was loaded with; reloads use them
  // too, and the controller rotates them.
  // `takeover`: sockets and keys handed over by the process this one replaces (a binary
  // upgrade), answered on `takeover_socket` once serving; null for an ordinary start.
  Controller(std::string config_path, config::Config config,
             std::shared_ptr<tls::TicketKeys> ticket_keys,
             std::optional<Handover> takeover = std::nullopt, int takeover_socket = -1,
             std::shared_ptr<cache::Store> cache_store = nullptr);
  ~Controller() override;
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // A node of a cluster (`cluster:` in its file): the shared configuration it started with,
  // from its snapshot (none: it starts with its own file alone). Before run().
  void set_cluster_start(std::optional<cluster::Snapshot> snapshot) {
    cluster_start_ = std::move(snapshot);
  }

  // Starts everything and runs until SIGTERM / SIGINT; returns the exit code.
  int run();

  // ControlLink (called from worker threads).
  void target_drained(unsigned worker, const std::string& group, uint64_t target_id,
                      uint64_t version) override;

 private:
  class SignalWatch;
  bool start(std::string* error);
  void on_signal(int sig);
  // Reads the file again and applies it without closing listeners; a file with errors
  // leaves the running configuration as it is (null). The completion counts down as the
  // workers apply the new configuration.
  std::shared_ptr<core::Completion> reload(const char* trigger);
  // The configuration as the file (and, in a cluster, the shared configuration) says now.
  config::LoadResult load_current() const;
  // Applies a loaded configuration (the reload path of every change); `source` names where
  // it came from in the log. Null when it has errors or cannot be applied.
  std::shared_ptr<core::Completion> apply(config::LoadResult result, const char* trigger,
                                          const std::string& source);

  // A node of a cluster (controller_cluster.cc).
  void start_cluster();
  config::LoadResult load_with_shared(const std::string& text, int64_t revision) const;
  // etcd has a new shared configuration: applied like a reload, then saved as the snapshot.
  void shared_config_changed(const std::string& text, int64_t revision);
  // The configuration in effect and the view's registered targets, to the state folder.
  void save_cluster_snapshot();
  nlohmann::json cluster_json() const;
  void add_cluster_routes();
  // Database endpoints (controller_databases.cc): a monitor per Patroni cluster, whose
  // verdicts become its members' health in the endpoints' groups.
  void sync_databases();
  std::shared_ptr<core::Completion> database_changed(const std::string& name);
  void sync_discovered_members(const db::DatabaseMonitor& monitor);
  nlohmann::json database_json(const db::DatabaseMonitor& monitor,
                               const metrics::Totals& totals) const;
  db::DatabaseMonitor& database_named(const std::string& name);
  void add_database_routes();
  admin::AdminResponse start_switchover(const std::string& name, const nlohmann::json& body);
  void render_database_metrics(metrics::PrometheusWriter& w) const;
  void sample_databases(int64_t second);
  // Registered targets in a cluster (controller_cluster_targets.cc): an API change is a
  // compare-and-swap on the target's key; every node (this one too) applies what the watch
  // brings by making its registry match the cluster's list.
  admin::AdminResponse change_cluster_target(const TargetOp& op);
  void sync_cluster_targets();
  // Runs `fn` once this node's view has reached store revision `revision`.
  void when_seen(int64_t revision, std::function<void()> fn);
  void cluster_progressed();
  // This node starts or stops leading the autoscaler (controller_cluster_leader.cc).
  void leadership_changed(bool leading);
  void join_through_cluster(const std::string& group, const std::string& address, bool join);
  // Once a second while leading: each group's state, for a successor to take over.
  void write_autoscaling_state();
  bool runs_autoscaler() const;
  // Every tick: the autoscaled targets this node's checks find unhealthy, in etcd under its
  // membership lease (controller_cluster_health.cc), and the leader's count of them.
  void publish_health_view();
  bool most_nodes_see_failing(const std::string& group, const std::string& address);
  // Why a follower does not answer for the autoscaler, and where to ask.
  std::string not_the_leader() const;
  void render_cluster_metrics(metrics::PrometheusWriter& w) const;
  bool open_new_sockets(const config::Config& next,
                        std::vector<std::vector<std::pair<core::SocketAddress, int>>>* sockets,
                        std::string* error);
  std::vector<std::shared_ptr<proxy::CircuitBreaker>> breakers_for(const config::Config& next);
  // `inherited_fd`: the admin socket handed over by the replaced process, used when it
  // is on the configured address (-1: none).
  bool apply_admin_settings(const config::Config& next, std::string* error, int inherited_fd = -1);

  // Zero-downtime binary upgrades (controller_upgrade.cc). The old process starts the
  // binary at its own path with --takeover-fd, hands it its sockets and ticket keys, and
  // once the new one says it serves, stops accepting, drains and exits.
  bool begin_upgrade(const char* trigger, std::string* error);
  Handover collect_handover() const;
  void upgrade_answered(const std::string& answer);
  // The new process's side: tells the old one it serves (or why it cannot).
  void answer_takeover(const std::string& answer);
  // Records the listening sockets of the current configuration, by address, as handed over.
  void note_listening_sockets(const std::vector<std::pair<core::SocketAddress, int>>& sockets);
  // The access-log files `cfg` names, reusing those already open; false (with `error`
  // naming the listener) when one cannot be opened.
  bool open_log_files(const config::Config& cfg,
                      std::map<std::string, std::shared_ptr<proxy::AccessLogFile>>* files,
                      std::string* error);
  // SIGUSR1: open every access log again, for logrotate.
  void reopen_logs();
  // Sends every changed membership to the workers; the completion counts down as they
  // apply them (null when nothing changed).
  std::shared_ptr<core::Completion> publish();
  // A callback for the workers that counts `completion` down on the control loop.
  std::function<void()> report_to(std::shared_ptr<core::Completion> completion);
  // Keeps one health checker per target of each checked group, with current settings.
  void sync_checkers();
  void remove_finished_targets();
  void warn_if_none_healthy(const std::string& group);
  static void on_tick(void* self);
  // Once a second: the time-series datapoints of `second`, then the alarms.
  void sample(int64_t second);
  admin::AdminResponse metrics_query(const admin::AdminRequest& request);
  // Alarms (controller_alarms.cc).
  void run_alarm_action(const alarms::AlarmStatus& alarm, const config::AlarmAction& action,
                        const alarms::Transition& t);
  // After `second` was sampled. On a cluster's leader, on the whole cluster's series.
  void evaluate_alarms(int64_t second);
  nlohmann::json alarms_json(const std::string& only) const;

  // GET /metrics (controller_metrics.cc).
  std::string render_prometheus();
  // Automatic certificates (controller_acme.cc): gives the ACME manager the current
  // configuration's jobs (making it on first need), and its figures for /metrics.
  void configure_acme();
  void render_acme_metrics(metrics::PrometheusWriter& w) const;
  // GET /api/v1/certificates: what each TLS listener serves, and its ACME state.
  nlohmann::json certificates_json() const;

  // The admin API (controller_api.cc): its routes, in router_.
  admin::AdminResponse handle_api(const admin::AdminRequest& request);
  void add_routes();
  void add_target_routes();
  void add_cache_routes();  // controller_cache.cc
  // A cache purge asked through the API: by "url", "prefix" or "tag".
  struct CachePurge {
    cache::Store::PurgeBy by = cache::Store::PurgeBy::kUrl;
    std::string field;
    std::string value;
  };
  struct Purged {
    size_t objects = 0;
    size_t files = 0;  // of the disk tier
  };
  // "url", "prefix" or "tag": the API's field names, also a cluster purge key's "by".
  static std::optional<cache::Store::PurgeBy> purge_kind(const std::string& field);
  Purged purge_here(const CachePurge& purge, const char* asked_by);
  static admin::AdminResponse purge_answer(const CachePurge& purge, const Purged& purged);
  // In a cluster (controller_cluster_purges.cc): a key under PREFIX/purges/ that every node
  // applies from its watch; the node that wrote it deletes it after kPurgeKeptMs.
  admin::AdminResponse purge_through_cluster(const CachePurge& purge);
  void apply_cluster_purges();
  void sweep_cluster_purges(int64_t unix_ms);
  static constexpr int64_t kPurgeKeptMs = 10 * 60 * 1000;  // for nodes that catch up late
  std::map<std::string, Purged> applied_purges_;           // by purge id, while its key exists
  std::set<std::string> purges_being_deleted_;
  uint64_t purges_sent_ = 0;
  void add_fault_routes();  // controller_faults.cc
  // The group named in a path (a 404 when there is none).
  const GroupRecord& group_named(const std::string& name) const;
  // The {group} of a target route, which must exist (a 404 otherwise).
  const std::string& existing_group(const admin::PathParams& p) const;
  // A change to a target: made in the registry, or, in a cluster, written to etcd first.
  admin::AdminResponse change_target(const TargetOp& op);
  // The answer to a change of targets: the registry's outcome, published to the workers.
  admin::AdminResponse target_change(const std::string& group,
                                     const TargetRegistry::Outcome& outcome, int ok_status,
                                     const nlohmann::json& ok_body, const std::string& what);

  std::string config_path_;
  std::shared_ptr<const config::Config> config_;
  core::EventLoop loop_;
  TargetRegistry registry_;
  metrics::MetricsRegistry metrics_;
  metrics::TimeSeriesStore series_;
  MetricsCollector collector_{series_};
  alarms::WebhookSender webhooks_{loop_};
  alarms::AlarmManager alarms_;
  Autoscaler autoscaler_{loop_, registry_, series_, alarms_, [this] {
                           publish();
                           sync_checkers();
                         }};
  double last_cpu_seconds_ = -1;
  int64_t last_sample_ms_ = 0;
  int64_t last_sampled_second_ = 0;
  ReloadStatus reload_status_;
  int64_t started_unix_ = 0;
  std::map<std::pair<std::string, uint64_t>, std::unique_ptr<health::TargetChecker>> checkers_;
  std::vector<std::shared_ptr<proxy::CircuitBreaker>> breakers_;  // by group position
  // Every listener's connection limits by name: a limiter outlives reloads that keep its
  // listener, so its counts of open connections stay true.
  std::map<std::string, std::shared_ptr<proxy::ConnectionLimiter>> limiters_;
  // The limiters of `config`'s listeners, by position, with its limits.
  std::vector<std::shared_ptr<proxy::ConnectionLimiter>> limiters_for(const config::Config& config);
  std::vector<std::unique_ptr<proxy::Worker>> workers_;
  std::map<std::string, std::shared_ptr<proxy::AccessLogFile>> log_files_;  // by path
  std::unique_ptr<admin::AdminServer> admin_;
  admin::Router router_;  // the API's routes, filled once by add_routes()
  std::unique_ptr<SignalWatch> signals_;
  core::Timer tick_timer_{&Controller::on_tick, this};
  std::shared_ptr<tls::TicketKeys> ticket_keys_;
  std::string executable_;  // this binary's path at start: where an upgrade finds the new one
  std::map<std::string, std::vector<int>> listening_;  // by address, every worker's socket
  std::optional<Handover> takeover_;
  int takeover_socket_ = -1;
  // The process's response cache: every configuration's caching rules share it, across
  // reloads; sized by each configuration's cache.memory as it is applied.
  std::shared_ptr<cache::Store> cache_store_;
  std::unique_ptr<UpgradeWatch> upgrade_;
  // Declared after loop_: it posts reloads to it, so it must stop first.
  std::unique_ptr<acme::Manager> acme_;
  bool handed_over_ = false;  // a new process serves: this one drains and exits
  // Ready to take traffic: serving some listener and not stopping (GET /ready, and the
  // keepalived track file).
  bool stopping_ = false;
  bool ready() const { return !stopping_ && !config_->listeners.empty(); }
  std::string not_ready_reason() const;
  // Writes the track file when readiness changed (or the file's path did).
  void update_readiness();
  void add_readiness_routes();               // controller_readiness.cc
  std::string track_written_;                // "path\nvalue" last written
  std::unique_ptr<TrackGuard> track_guard_;  // writes 1 if this process dies
  // On SIGTERM behind keepalived: how long the listeners stay open after the track file
  // says 1, while keepalived moves the addresses away.
  static constexpr int64_t kVipReleaseMs = 500;
  static void on_vip_released(void* self);
  core::Timer vip_release_timer_{&Controller::on_vip_released, this};
  // A node of a cluster: its side of etcd, and the shared configuration in effect.
  std::map<std::string, std::unique_ptr<db::DatabaseMonitor>> databases_;  // by name
  WriterNat writer_nat_;  // the writers with relay: nat
  std::unique_ptr<cluster::Node> cluster_;
  std::optional<cluster::Snapshot> cluster_start_;
  struct SharedConfig {
    std::string text;
    int64_t revision = 0;  // of the etcd key; 0: none applied yet
    int64_t applied_unix = 0;
    std::string rejected;  // the last revision that had errors, and why
  } shared_;
  int64_t cluster_resyncs_ = 0;
  bool cluster_snapshot_stale_ = false;  // the registered targets changed since the last save
  std::vector<std::pair<int64_t, std::function<void()>>> revision_waiters_;
  // The autoscaler leader's state of each group in etcd: the text last written (or being
  // written), whether a write is on its way (one at a time, so none overtakes another), and the
  // instances etcd is known to hold (launches wait for it).
  struct AutoscalingStateWrite {
    std::string text;
    bool in_flight = false;
    std::set<std::string> recorded_ids;
  };
  std::map<std::string, AutoscalingStateWrite> autoscaling_state_;  // by group
  uint64_t autoscaling_term_ = 0;                                   // counts leadership changes
  std::unique_ptr<ClusterTraffic> cluster_traffic_;  // the leader's view of the peers' traffic
  // The leader's: the shared series of every node, its own included (cluster_series.h).
  std::unique_ptr<metrics::TimeSeriesStore> cluster_series_;
  void poll_cluster_traffic();
  // `since`: the first second of the shared series the leader still lacks.
  nlohmann::json traffic_json(int64_t since) const;
  struct HealthViewWritten {
    std::string text;   // the JSON list last written
    int64_t lease = 0;  // under which membership lease
    bool in_flight = false;
  } health_view_;
  std::set<std::string> overruled_;  // "group/address" failing here, not on most nodes
  // The workers' application of the latest registry change made from the cluster's list.
  std::shared_ptr<core::Completion> cluster_targets_in_effect_;
  struct UpgradeStatus {
    int64_t at_unix = 0;
    bool ok = true;
    std::string message;
    int new_pid = 0;
  } upgrade_status_;
  static void on_ticket_rotation(void* self);
  core::Timer ticket_timer_{&Controller::on_ticket_rotation, this};
};

// The cluster sections are the same (a reload does not change them: they apply at start).
bool same_cluster_settings(const config::ClusterConfig& a, const config::ClusterConfig& b);

// A group's counters summed over the workers, as the API shows them.
nlohmann::json group_counters(const metrics::Totals& totals, const std::string& group);

// Blocks the signals the controller handles, in the calling thread and every thread it
// starts afterwards. Call first thing in main().
void block_control_signals();

}  // namespace ballast::control
