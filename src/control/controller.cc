#include "control/controller.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <random>

#include "admin/web_assets.h"
#include "config/config_loader.h"
#include "core/clock.h"
#include "core/fd_passing.h"
#include "core/log.h"
#include "core/sockets.h"
#include "kernel_relay/kernel_relay.h"
#include "metrics/process_stats.h"

namespace ballast::control {

namespace {
constexpr int64_t kTickMs = 100;

sigset_t control_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  return set;
}

// Every reload builds new TLS contexts; checks keep theirs (and their targets' health) when
// the settings behind them are the same.
bool same_tls(const config::HealthCheckConfig& a, const config::HealthCheckConfig& b) {
  if (!a.tls || !b.tls) return !a.tls && !b.tls;
  return a.tls->settings() == b.tls->settings() && a.tls_server_name == b.tls_server_name;
}

bool same_check_settings(const config::HealthCheckConfig& a, const config::HealthCheckConfig& b) {
  return a.protocol == b.protocol && a.path == b.path && a.method == b.method && a.host == b.host &&
         a.port == b.port && a.matcher == b.matcher && a.interval_ms == b.interval_ms &&
         a.timeout_ms == b.timeout_ms && a.healthy_threshold == b.healthy_threshold &&
         a.unhealthy_threshold == b.unhealthy_threshold && a.jitter_percent == b.jitter_percent &&
         same_tls(a, b);
}

bool same_limits(const config::CircuitBreakerConfig& a, const config::CircuitBreakerConfig& b) {
  return a.max_connections == b.max_connections &&
         a.max_pending_requests == b.max_pending_requests && a.max_requests == b.max_requests;
}

bool has_limits(const config::CircuitBreakerConfig& c) {
  return c.max_connections != 0 || c.max_pending_requests != 0 || c.max_requests != 0;
}

}  // namespace

void block_control_signals() {
  sigset_t set = control_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

// Signals arrive as readable events on a signalfd, so they are handled on the control
// loop like everything else (no async-signal-safety puzzles).
class Controller::SignalWatch final : public core::IoHandler {
 public:
  SignalWatch(Controller& c) : controller_(c) {
    sigset_t set = control_signals();
    fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  }
  ~SignalWatch() override {
    if (fd_ >= 0) {
      controller_.loop_.remove(fd_);
      ::close(fd_);
    }
  }
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void on_io(uint32_t) override {
    signalfd_siginfo info{};
    while (::read(fd_, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
      controller_.on_signal(static_cast<int>(info.ssi_signo));
    }
  }

 private:
  Controller& controller_;
  int fd_ = -1;
};

Controller::Controller(std::string config_path, config::Config config,
                       std::shared_ptr<tls::TicketKeys> ticket_keys,
                       std::optional<Handover> takeover, int takeover_socket,
                       std::shared_ptr<cache::Store> cache_store)
    : config_path_(std::move(config_path)),
      config_(std::make_shared<const config::Config>(std::move(config))),
      registry_(config_->effective_workers()),
      series_(config_->metrics.per_second_retention_ms / 1000,
              config_->metrics.per_minute_retention_ms / 60000),
      alarms_([this](const alarms::AlarmStatus& a, const config::AlarmAction& action,
                     const alarms::Transition& t) { run_alarm_action(a, action, t); }),
      ticket_keys_(std::move(ticket_keys)),
      takeover_(std::move(takeover)),
      takeover_socket_(takeover_socket),
      cache_store_(std::move(cache_store)) {
  if (cache_store_) cache_store_->set_capacity(config_->cache_memory);
  char path[4096];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n > 0) executable_.assign(path, static_cast<size_t>(n));
  add_routes();
}

Controller::~Controller() {
  acme_.reset();
  checkers_.clear();
  admin_.reset();
  signals_.reset();
}

int Controller::run() {
  block_control_signals();
  std::string error;
  if (!start(&error)) {
    LOG_ERROR("%s", error.c_str());
    answer_takeover("failed: " + error + "\n");
    for (auto& w : workers_) w->request_shutdown(0);
    for (auto& w : workers_) {
      w->start();
      w->join();
    }
    return 1;
  }
  loop_.run();
  if (cluster_) cluster_->leave();
  acme_.reset();  // a conversation with a CA is abandoned; the next start resumes it
  if (!handed_over_) core::notify_systemd("STOPPING=1");
  LOG_INFO("no longer accepting; finishing in-flight requests (up to %lldms)",
           static_cast<long long>(config_->shutdown_timeout_ms));
  checkers_.clear();
  admin_.reset();
  for (auto& w : workers_) w->request_shutdown(config_->shutdown_timeout_ms);
  for (auto& w : workers_) w->join();
  workers_.clear();
  // After the workers: their last requests may be on instances. In a cluster, instances that
  // outlive ballast are left to the next leader, which adopts them.
  if (cluster_) {
    autoscaler_.leave_to_successor(core::unix_ms());
  } else {
    autoscaler_.stop_all();
  }
  LOG_INFO("stopped");
  return 0;
}

bool Controller::start(std::string* error) {
  loop_.update_time();
  started_unix_ = core::unix_seconds();
  reload_status_.last_attempt_unix = started_unix_;
  signals_ = std::make_unique<SignalWatch>(*this);
  if (!signals_->ok()) {
    *error = std::string("signalfd: ") + strerror(errno);
    return false;
  }
  loop_.add_level_triggered(signals_->fd(), EPOLLIN, signals_.get());
  int inherited_admin = -1;
  if (takeover_ && takeover_->admin_fd >= 0 &&
      takeover_->admin_address == config_->admin.bind.to_string()) {
    inherited_admin = takeover_->admin_fd;
    takeover_->admin_fd = -1;
  }
  // Before any listener opens: the guard keeps none of them.
  if (!config_->keepalived_track_file.empty()) {
    track_guard_ = TrackGuard::start(config_->keepalived_track_file, error);
    if (!track_guard_) return false;
  }
  if (!apply_admin_settings(*config_, error, inherited_admin)) return false;

  breakers_ = breakers_for(*config_);
  alarms_.configure(config_->alarms, started_unix_);
  registry_.load(*config_, loop_.now_ms());
  auto memberships = registry_.take_changes();
  if (!open_log_files(*config_, &log_files_, error)) return false;
  if (cache_store_ && !config_->cache_disk_path.empty()) {
    auto disk = cache::DiskTier::open(config_->cache_disk_path, config_->cache_disk_size, error);
    if (!disk) return false;
    cache::DiskTier::Totals found = disk->totals();
    LOG_INFO("cache: disk tier %s holds %llu object(s), %llu bytes", disk->dir().c_str(),
             static_cast<unsigned long long>(found.objects),
             static_cast<unsigned long long>(found.bytes));
    cache_store_->attach_disk(std::move(disk));
  }
  // The kernel relay loads before the first connection would wait for it, and says now
  // whether the kernel allows it.
  for (const auto& l : config_->listeners) {
    if (l.protocol == config::ListenerConfig::Protocol::kTcp &&
        l.relay == config::ListenerConfig::Relay::kKernel) {
      kernel_relay::KernelRelay::shared();
      break;
    }
  }
  unsigned n = config_->effective_workers();
  for (unsigned i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<proxy::Worker>(config_, i, breakers_, this, &metrics_,
                                                       limiters_for(*config_)));
    workers_.back()->set_log_files(log_files_);
    if (!workers_.back()->open_listeners(error, takeover_ ? &takeover_->listeners : nullptr))
      return false;
    note_listening_sockets(workers_.back()->listening_sockets());
    for (const auto& [group, m] : memberships) workers_.back()->apply_membership(group, *m);
  }
  for (auto& w : workers_) w->start();
  sync_checkers();
  sync_databases();
  // In a cluster the autoscaler runs on the elected leader only (leadership_changed).
  if (!config_->cluster.enabled) autoscaler_.configure(*config_, started_unix_ * 1000);
  configure_acme();
  for (const auto& l : config_->listeners) {
    LOG_INFO("listener \"%s\" on %s", l.name.c_str(), l.bind.to_string().c_str());
  }
  LOG_INFO("ballast running with %u worker thread(s)", n);
  if (takeover_) {
    // Sockets of workers the old process had beyond ours: the old process accepts what is
    // queued on them before it lets go.
    takeover_->close_unused();
    LOG_INFO("took over from pid %d", takeover_->old_pid);
    answer_takeover(kReadyAnswer);
    core::notify_systemd("MAINPID=" + std::to_string(::getpid()) + "\nREADY=1");
  } else {
    core::notify_systemd("READY=1");
  }
  if (config_->cluster.enabled) start_cluster();
  update_readiness();
  loop_.timers().arm(tick_timer_, kTickMs, loop_.now_ms());
  loop_.timers().arm(ticket_timer_, tls::TicketKeys::kRotationSeconds * 1000, loop_.now_ms());
  return true;
}

bool Controller::apply_admin_settings(const config::Config& next, std::string* error,
                                      int inherited_fd) {
  const config::AdminConfig& a = next.admin;
  if (!a.enabled) {
    if (admin_) {
      // The request that asked for this reload may be running inside the old server.
      admin::AdminServer* old = admin_.release();
      loop_.defer_delete([old] { delete old; });
    }
    return true;
  }
  if (admin_ && admin_->address() == a.bind) {
    admin_->set_token(a.token);
    return true;
  }
  auto server = std::make_unique<admin::AdminServer>(
      loop_, [this](const admin::AdminRequest& r) { return handle_api(r); });
  if (inherited_fd >= 0) {
    server->adopt(inherited_fd);
  } else if (!server->open(a.bind, error)) {
    *error = "admin.bind " + a.bind_text + ": " + *error;
    return false;
  }
  server->set_token(a.token);
  // The dashboard's files, and readiness for keepalived's check script.
  server->set_public_paths([](const std::string& path) {
    return path == "/ready" || admin::find_web_asset(path) != nullptr;
  });
  LOG_INFO("admin API on http://%s/api/v1/, dashboard on http://%s/",
           server->address().to_string().c_str(), server->address().to_string().c_str());
  if (admin_) {
    admin::AdminServer* old = admin_.release();
    loop_.defer_delete([old] { delete old; });
  }
  admin_ = std::move(server);
  return true;
}

void Controller::on_signal(int sig) {
  if (sig == SIGHUP) {
    reload("SIGHUP");
    return;
  }
  if (sig == SIGUSR1) {
    reopen_logs();
    return;
  }
  if (sig == SIGUSR2) {
    std::string error;
    if (!begin_upgrade("SIGUSR2", &error)) LOG_ERROR("upgrade (SIGUSR2): %s", error.c_str());
    return;
  }
  LOG_INFO("received %s", strsignal(sig));
  if (stopping_) {
    loop_.stop();  // a second signal: no more waiting for the address to move
    return;
  }
  stopping_ = true;
  if (config_->keepalived_track_file.empty()) {
    loop_.stop();
    return;
  }
  // Give up the virtual IPs first, and keep accepting until keepalived has moved them:
  // a connection that reaches this node meanwhile is served, not refused. In the drills
  // the address moves within a few milliseconds of the file's change; 500 ms is ample.
  update_readiness();
  LOG_INFO("keepalived: giving up the virtual IPs; draining in %lldms",
           static_cast<long long>(kVipReleaseMs));
  loop_.timers().arm(vip_release_timer_, kVipReleaseMs, loop_.now_ms());
}

void Controller::on_vip_released(void* self) {
  static_cast<Controller*>(self)->loop_.stop();
}

std::vector<std::shared_ptr<proxy::ConnectionLimiter>> Controller::limiters_for(
    const config::Config& config) {
  std::vector<std::shared_ptr<proxy::ConnectionLimiter>> out;
  for (const auto& l : config.listeners) {
    auto& limiter = limiters_[l.name];
    if (!limiter) limiter = std::make_shared<proxy::ConnectionLimiter>();
    limiter->set_limits(l.client_limits.max_connections,
                        l.client_limits.max_connections_per_client);
    out.push_back(limiter);
  }
  return out;
}

std::vector<std::shared_ptr<proxy::CircuitBreaker>> Controller::breakers_for(
    const config::Config& next) {
  std::vector<std::shared_ptr<proxy::CircuitBreaker>> out;
  for (const auto& g : next.target_groups) {
    std::shared_ptr<proxy::CircuitBreaker> breaker;
    for (size_t old = 0; old < config_->target_groups.size() && old < breakers_.size(); ++old) {
      const auto& og = config_->target_groups[old];
      // Same limits: keep the breaker and its counts (a reload is not a reset).
      if (og.name == g.name && same_limits(og.circuit_breaker, g.circuit_breaker))
        breaker = breakers_[old];
    }
    if (!breaker && has_limits(g.circuit_breaker)) {
      breaker = std::make_shared<proxy::CircuitBreaker>(g.circuit_breaker);
    }
    out.push_back(std::move(breaker));
  }
  return out;
}

bool Controller::open_new_sockets(
    const config::Config& next,
    std::vector<std::vector<std::pair<core::SocketAddress, int>>>* sockets, std::string* error) {
  sockets->assign(workers_.size(), {});
  for (const auto& l : next.listeners) {
    bool existing = false;
    for (const auto& old : config_->listeners) existing = existing || old.bind == l.bind;
    if (existing) continue;
    for (size_t w = 0; w < workers_.size(); ++w) {
      int fd = core::listen_tcp(l.bind, /*reuse_port=*/true, /*backlog=*/4096, error);
      if (fd < 0) {
        *error = "listener \"" + l.name + "\": " + *error;
        for (auto& per_worker : *sockets) {
          for (auto& [addr, s] : per_worker) ::close(s);
        }
        sockets->clear();
        return false;
      }
      (*sockets)[w].emplace_back(l.bind, fd);
    }
  }
  return true;
}

std::shared_ptr<core::Completion> Controller::reload(const char* trigger) {
  return apply(load_current(), trigger, config_path_);
}

config::LoadResult Controller::load_current() const {
  config::LoadOptions options{ticket_keys_, config_->acme_challenges, cache_store_};
  if (!cluster_) return config::load_config_file(config_path_, options);
  // A node of a cluster: its own file as it is now, with the shared configuration in effect.
  return load_with_shared(shared_.text, shared_.revision);
}

std::shared_ptr<core::Completion> Controller::apply(config::LoadResult result, const char* trigger,
                                                    const std::string& source) {
  loop_.update_time();
  reload_status_.last_attempt_unix = core::unix_seconds();
  reload_status_.errors.clear();
  auto fail = [&](const std::string& why) {
    reload_status_.last_ok = false;
    LOG_ERROR("reload (%s): %s; the running configuration stays", trigger, why.c_str());
    return std::shared_ptr<core::Completion>();
  };
  if (!result.config) {
    for (const auto& e : result.errors.errors()) {
      reload_status_.errors.push_back(e.to_string());
      LOG_ERROR("%s", e.to_string().c_str());
    }
    return fail(std::to_string(result.errors.errors().size()) + " error(s) in " + source);
  }
  if (cluster_ && !same_cluster_settings(result.config->cluster, config_->cluster)) {
    LOG_WARN("reload (%s): the cluster section stays as it was until restart", trigger);
  }
  auto next = std::make_shared<const config::Config>(std::move(*result.config));
  std::string error;
  std::vector<std::vector<std::pair<core::SocketAddress, int>>> sockets;
  std::map<std::string, std::shared_ptr<proxy::AccessLogFile>> log_files;
  if (!open_log_files(*next, &log_files, &error) || !open_new_sockets(*next, &sockets, &error) ||
      !apply_admin_settings(*next, &error)) {
    for (auto& per_worker : sockets) {
      for (auto& [addr, s] : per_worker) ::close(s);
    }
    reload_status_.errors.push_back(error);
    return fail(error);
  }
  if (next->effective_workers() != workers_.size()) {
    LOG_WARN("reload: workers stays %zu until restart (the file says %u)", workers_.size(),
             next->effective_workers());
  }
  auto breakers = breakers_for(*next);
  auto limiters = limiters_for(*next);
  registry_.load(*next, loop_.now_ms());
  if (cache_store_) cache_store_->set_capacity(next->cache_memory);
  if (next->cache_disk_path != config_->cache_disk_path ||
      (!next->cache_disk_path.empty() && next->cache_disk_size != config_->cache_disk_size)) {
    LOG_WARN("reload: cache.disk stays as it was until restart");
  }
  std::vector<std::shared_ptr<const proxy::GroupMembership>> memberships(
      next->target_groups.size());
  for (auto& [group, m] : registry_.take_changes()) memberships[group] = std::move(m);
  // What an upgrade would hand over: the sockets of the listeners that stay, and the new.
  for (auto it = listening_.begin(); it != listening_.end();) {
    bool kept = false;
    for (const auto& l : next->listeners) kept = kept || l.bind.to_string() == it->first;
    it = kept ? std::next(it) : listening_.erase(it);
  }
  for (const auto& per_worker : sockets) note_listening_sockets(per_worker);
  auto in_effect = std::make_shared<core::Completion>(static_cast<int>(workers_.size()));
  for (size_t w = 0; w < workers_.size(); ++w) {
    workers_[w]->post_reload(proxy::WorkerReload{next, breakers, std::move(sockets[w]), memberships,
                                                 log_files, limiters},
                             report_to(in_effect));
  }
  config_ = std::move(next);
  breakers_ = std::move(breakers);
  log_files_ = std::move(log_files);
  alarms_.configure(config_->alarms, core::unix_seconds());
  sync_checkers();
  sync_databases();
  if (runs_autoscaler()) autoscaler_.configure(*config_, core::unix_seconds() * 1000);
  configure_acme();
  // Targets registered in the cluster whose group this configuration adds join it now.
  if (cluster_) sync_cluster_targets();
  update_readiness();
  reload_status_.last_ok = true;
  ++reload_status_.generation;
  LOG_INFO("reload (%s): configuration %llu applied from %s", trigger,
           static_cast<unsigned long long>(reload_status_.generation), source.c_str());
  return in_effect;
}

bool Controller::open_log_files(const config::Config& cfg,
                                std::map<std::string, std::shared_ptr<proxy::AccessLogFile>>* files,
                                std::string* error) {
  for (const auto& l : cfg.listeners) {
    if (!l.access_log.enabled || files->count(l.access_log.path) != 0) continue;
    auto open = log_files_.find(l.access_log.path);
    if (open != log_files_.end()) {
      (*files)[l.access_log.path] = open->second;
      continue;
    }
    auto file = proxy::AccessLogFile::open(l.access_log.path, error);
    if (!file) {
      *error = "listener \"" + l.name + "\": " + *error;
      return false;
    }
    (*files)[l.access_log.path] = std::move(file);
  }
  return true;
}

void Controller::reopen_logs() {
  std::map<std::string, std::shared_ptr<proxy::AccessLogFile>> reopened;
  for (const auto& [path, file] : log_files_) {
    std::string error;
    auto fresh = proxy::AccessLogFile::open(path, &error);
    if (!fresh) {
      LOG_ERROR("SIGUSR1: %s; still writing to the old file", error.c_str());
      reopened[path] = file;
      continue;
    }
    reopened[path] = std::move(fresh);
  }
  log_files_ = reopened;
  for (auto& w : workers_) w->post_reopened_logs(reopened);
  LOG_INFO("SIGUSR1: reopened %zu access log(s)", reopened.size());
}

std::shared_ptr<core::Completion> Controller::publish() {
  auto changes = registry_.take_changes();
  if (changes.empty()) return nullptr;
  auto in_effect =
      std::make_shared<core::Completion>(static_cast<int>(changes.size() * workers_.size()));
  auto applied = report_to(in_effect);
  for (auto& [group, m] : changes) {
    for (auto& w : workers_) w->post_membership(config_, group, m, applied);
  }
  return in_effect;
}

std::function<void()> Controller::report_to(std::shared_ptr<core::Completion> completion) {
  // Called on a worker's thread; the completion lives on the control loop.
  return [this, completion] { loop_.post([completion] { completion->count_down(); }); };
}

void Controller::sync_checkers() {
  std::map<std::pair<std::string, uint64_t>, std::unique_ptr<health::TargetChecker>> next;
  std::random_device seeds;
  for (const auto& g : registry_.groups()) {
    // A database endpoint's health is its members' roles (controller_databases.cc).
    if (!g.checked || g.health_source != config::TargetGroupConfig::HealthSource::kChecks) {
      continue;
    }
    const config::HealthCheckConfig& settings = config_->target_groups[g.config_index].health_check;
    for (const auto& t : g.targets) {
      auto key = std::make_pair(g.name, t.id);
      auto it = checkers_.find(key);
      if (it != checkers_.end() && same_check_settings(it->second->settings(), settings)) {
        next[key] = std::move(it->second);
        continue;
      }
      std::string group_name = g.name;
      std::string address = t.address_text;
      uint64_t id = t.id;
      auto checker = std::make_unique<health::TargetChecker>(
          loop_, settings, t.address, t.address_text, seeds(),
          [this, group_name, address, id](health::TargetHealth state, health::HealthReason reason,
                                          const std::string& detail) {
            if (state == health::TargetHealth::kHealthy) {
              LOG_INFO("target group \"%s\": %s is healthy", group_name.c_str(), address.c_str());
            } else {
              LOG_WARN("target group \"%s\": %s is unhealthy (%s: %s)", group_name.c_str(),
                       address.c_str(), health::to_string(reason), detail.c_str());
            }
            registry_.set_health(group_name, id, state, reason, detail);
            if (state != health::TargetHealth::kHealthy) warn_if_none_healthy(group_name);
            publish();
          });
      checker->start();
      next[key] = std::move(checker);
    }
  }
  checkers_ = std::move(next);  // checkers of removed targets stop here
}

void Controller::warn_if_none_healthy(const std::string& group) {
  const GroupRecord* g = registry_.find_group(group);
  if (g == nullptr) return;
  for (const auto& t : g->targets) {
    if (g->state_of(t) == health::TargetHealth::kHealthy) return;
  }
  bool fail_open = config_->target_groups[g->config_index].fail_open;
  LOG_WARN(
      "target group \"%s\": no healthy target; %s", group.c_str(),
      fail_open ? "routing to all targets (fail_open: true)" : "answering 503 (fail_open: false)");
}

void Controller::target_drained(unsigned worker, const std::string& group, uint64_t target_id,
                                uint64_t version) {
  loop_.post([this, worker, group, target_id, version] {
    registry_.drained(group, target_id, version, worker);
    remove_finished_targets();
  });
}

void Controller::remove_finished_targets() {
  auto removed = registry_.remove_finished(loop_.now_ms());
  for (const auto& name : removed) LOG_INFO("deregistered %s", name.c_str());
  publish();
  if (!removed.empty()) sync_checkers();
}

void Controller::on_ticket_rotation(void* self) {
  auto* c = static_cast<Controller*>(self);
  c->loop_.timers().arm(c->ticket_timer_, tls::TicketKeys::kRotationSeconds * 1000,
                        c->loop_.now_ms());
  c->ticket_keys_->rotate();
  LOG_DEBUG("TLS session ticket keys rotated");
}

void Controller::on_tick(void* self) {
  auto* c = static_cast<Controller*>(self);
  c->loop_.timers().arm(c->tick_timer_, kTickMs, c->loop_.now_ms());
  c->remove_finished_targets();
  if (!c->upgrade_status_.ok && c->upgrade_status_.new_pid > 0 &&
      ::waitpid(c->upgrade_status_.new_pid, nullptr, WNOHANG) != 0) {
    c->upgrade_status_.new_pid = 0;  // the failed new process is gone (reaped)
  }
  c->autoscaler_.tick(c->loop_.now_ms(), core::unix_ms());
  // Every tick: a launch waits for its record in etcd.
  if (c->cluster_ && c->runs_autoscaler()) c->write_autoscaling_state();
  if (c->cluster_) {
    c->cluster_->tick(core::unix_seconds(), core::monotonic_ms());
    c->publish_health_view();
    if (c->cluster_snapshot_stale_ && c->shared_.revision != 0) c->save_cluster_snapshot();
  }
  // Once per wall-clock second (datapoints line up with seconds within a tick): the
  // second that just ended.
  int64_t second = core::unix_seconds() - 1;
  if (second > c->last_sampled_second_) {
    c->last_sampled_second_ = second;
    c->sample(second);
  }
}

void Controller::sample(int64_t second) {
  metrics_.collect_unused();
  metrics::ProcessStats p = metrics::read_process_stats();
  int64_t now_ms = core::monotonic_ms();
  double cpu_percent = 0;
  if (last_cpu_seconds_ >= 0 && now_ms > last_sample_ms_) {
    // Of the whole machine, as CloudWatch's CPUUtilization is of the whole instance.
    double cores = static_cast<double>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
    cpu_percent = (p.cpu_seconds - last_cpu_seconds_) * 1000.0 /
                  static_cast<double>(now_ms - last_sample_ms_) / cores * 100.0;
  }
  last_cpu_seconds_ = p.cpu_seconds;
  last_sample_ms_ = now_ms;
  metrics::Totals totals = metrics::sum_over_workers(metrics_);
  collector_.sample(second, totals, registry_, cpu_percent, static_cast<double>(p.resident_bytes));
  collector_.sample_cache(second, totals, *config_);
  sample_databases(second);
  evaluate_alarms(second);
  autoscaler_.sample(second, totals, now_ms);
  if (cluster_) sweep_cluster_purges(core::unix_ms());
  if (cluster_traffic_) poll_cluster_traffic();  // after the autoscaler took this second's
}

}  // namespace ballast::control
