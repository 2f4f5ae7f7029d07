#include "proxy/worker.h"

#include <unistd.h>

#include "core/log.h"
#include "core/sockets.h"
#include "proxy/kernel_notices.h"
#include "proxy/listener.h"
#include "proxy/session.h"
#include "proxy/tcp_session.h"

namespace ballast::proxy {

Worker::Worker(std::shared_ptr<const config::Config> config, unsigned index,
               const std::vector<std::shared_ptr<CircuitBreaker>>& breakers, ControlLink* control,
               metrics::MetricsRegistry* metrics,
               std::vector<std::shared_ptr<ConnectionLimiter>> limiters)
    : index_(index),
      control_(control),
      own_metrics_(metrics == nullptr ? std::make_unique<metrics::MetricsRegistry>() : nullptr),
      metrics_(metrics != nullptr ? metrics : own_metrics_.get()),
      shutdown_timer_(&Worker::on_shutdown_deadline, this) {
  std::vector<std::shared_ptr<TargetGroupRuntime>> groups;
  for (size_t g = 0; g < config->target_groups.size(); ++g) {
    groups.push_back(make_group(config, g, g < breakers.size() ? breakers[g] : nullptr));
  }
  snapshot_ = std::make_shared<const ConfigSnapshot>(std::move(config), std::move(groups),
                                                     std::move(limiters));
}

Worker::~Worker() {
  while (sessions_ != nullptr) sessions_->abort();
  for (auto& [name, writer] : access_logs_) writer->flush();
  acceptors_.clear();
  // Closed sessions still hold their snapshots until the loop frees them (its destructor
  // runs the deferred deletes, while it can still unregister the groups' connections).
  snapshot_.reset();
}

namespace {
// The settings of group `position`, kept alive by the configuration they belong to.
std::shared_ptr<const config::TargetGroupConfig> group_settings(
    const std::shared_ptr<const config::Config>& config, size_t position) {
  return {config, &config->target_groups[position]};
}
}  // namespace

std::shared_ptr<TargetGroupRuntime> Worker::make_group(
    const std::shared_ptr<const config::Config>& config, size_t position,
    std::shared_ptr<CircuitBreaker> breaker) {
  auto runtime = std::make_shared<TargetGroupRuntime>(loop_, group_settings(config, position),
                                                      std::move(breaker), metrics_, index_);
  if (control_ != nullptr) {
    std::string name = runtime->name();
    runtime->on_drained([this, name](uint64_t id, uint64_t version) {
      control_->target_drained(index_, name, id, version);
    });
  }
  return runtime;
}

bool Worker::open_listeners(std::string* error,
                            std::map<std::string, std::vector<int>>* inherited) {
  for (const auto& l : config().listeners) {
    int fd = -1;
    if (inherited != nullptr) {
      auto it = inherited->find(l.bind.to_string());
      if (it != inherited->end() && !it->second.empty()) {
        fd = it->second.back();
        it->second.pop_back();
        acceptors_.push_back(std::make_unique<Acceptor>(*this, snapshot_, l, fd));
        loop_.add_level_triggered(fd, EPOLLIN, acceptors_.back().get());
        continue;
      }
    }
    fd = core::listen_tcp(l.bind, /*reuse_port=*/true, /*backlog=*/4096, error);
    if (fd < 0) {
      *error = "listener \"" + l.name + "\": " + *error;
      return false;
    }
    acceptors_.push_back(std::make_unique<Acceptor>(*this, snapshot_, l, fd));
    loop_.add_level_triggered(fd, EPOLLIN, acceptors_.back().get());
  }
  return true;
}

std::vector<std::pair<core::SocketAddress, int>> Worker::listening_sockets() const {
  std::vector<std::pair<core::SocketAddress, int>> out;
  for (const auto& a : acceptors_) out.emplace_back(a->bind(), a->fd());
  return out;
}

void Worker::set_log_files(const std::map<std::string, std::shared_ptr<AccessLogFile>>& files) {
  update_access_logs(files);
}

std::shared_ptr<AccessLogWriter> Worker::access_log(const config::ListenerConfig& l) const {
  auto it = access_logs_.find(l.name);
  return it == access_logs_.end() ? nullptr : it->second;
}

void Worker::update_access_logs(
    const std::map<std::string, std::shared_ptr<AccessLogFile>>& files) {
  std::map<std::string, std::shared_ptr<AccessLogWriter>> next;
  for (const auto& l : config().listeners) {
    if (!l.access_log.enabled) continue;
    auto file = files.find(l.access_log.path);
    if (file == files.end()) continue;
    auto old = access_logs_.find(l.name);
    if (old != access_logs_.end() && old->second->file().path() == l.access_log.path &&
        old->second->format() == l.access_log.format) {
      next[l.name] = old->second;
    } else {
      // A writer that sessions still hold flushes when the last of them lets go.
      next[l.name] = std::make_shared<AccessLogWriter>(file->second, l.access_log.format);
    }
  }
  for (auto& [name, writer] : access_logs_) writer->flush();
  access_logs_ = std::move(next);
  if (!access_logs_.empty() && !flush_timer_.armed()) {
    loop_.timers().arm(flush_timer_, 1000, loop_.now_ms());
  }
}

void Worker::on_flush_timer(void* self) {
  auto* w = static_cast<Worker*>(self);
  for (auto& [name, writer] : w->access_logs_) writer->flush();
  if (!w->access_logs_.empty()) w->loop_.timers().arm(w->flush_timer_, 1000, w->loop_.now_ms());
}

void Worker::post_reopened_logs(std::map<std::string, std::shared_ptr<AccessLogFile>> files) {
  loop_.post([this, files = std::move(files)] {
    for (auto& [name, writer] : access_logs_) {
      auto it = files.find(writer->file().path());
      if (it != files.end()) writer->switch_file(it->second);
    }
  });
}

void Worker::apply_membership(size_t group, const GroupMembership& membership) {
  if (group >= snapshot_->groups().size()) return;
  TargetGroupRuntime& runtime = snapshot_->group(group);
  runtime.apply(membership);
  tell_connections(runtime);
}

void Worker::tell_connections(TargetGroupRuntime& group) {
  if (group.newly_fenced().empty() && !group.holds_connections()) return;
  for (ClientConnection* c = sessions_; c != nullptr;) {
    ClientConnection* next = c->next;  // c may close (it is freed after this batch)
    c->on_membership(group, group.newly_fenced());
    c = next;
  }
}

void Worker::start() {
  thread_ = std::thread([this] { loop_.run(); });
}

void Worker::post_membership(std::shared_ptr<const config::Config> config, size_t group,
                             std::shared_ptr<const GroupMembership> membership,
                             std::function<void()> applied) {
  loop_.post([this, config = std::move(config), group, membership = std::move(membership),
              applied = std::move(applied)] {
    // Messages arrive in order; one about a configuration this worker has left behind
    // is stale (the reload carried that group's newer membership). `group` is a position
    // in `config`, so it is only used against that same configuration.
    if (config == snapshot_->shared_config()) apply_membership(group, *membership);
    if (applied) applied();
  });
}

void Worker::post_reload(WorkerReload reload, std::function<void()> applied) {
  auto shared = std::make_shared<WorkerReload>(std::move(reload));
  loop_.post([this, shared, applied = std::move(applied)] {
    apply_reload(*shared);
    if (applied) applied();
  });
}

std::shared_ptr<const ConfigSnapshot> Worker::next_snapshot(WorkerReload& reload) {
  const std::shared_ptr<const config::Config>& next = reload.config;
  std::vector<std::shared_ptr<TargetGroupRuntime>> groups;
  for (size_t g = 0; g < next->target_groups.size(); ++g) {
    auto breaker = g < reload.breakers.size() ? reload.breakers[g] : nullptr;
    std::shared_ptr<TargetGroupRuntime> runtime =
        snapshot_->find_group(next->target_groups[g].name);
    if (runtime) {
      runtime->reconfigure(group_settings(next, g), std::move(breaker));
    } else {
      runtime = make_group(next, g, std::move(breaker));
    }
    if (g < reload.memberships.size() && reload.memberships[g]) {
      runtime->apply(*reload.memberships[g]);
    }
    groups.push_back(std::move(runtime));
  }
  return std::make_shared<const ConfigSnapshot>(next, std::move(groups), reload.limiters);
}

void Worker::apply_reload(WorkerReload& reload) {
  std::shared_ptr<const ConfigSnapshot> next = next_snapshot(reload);
  // A group the new configuration leaves out keeps no idle connection; it lives on while a
  // request's snapshot still holds it.
  for (const auto& old : snapshot_->groups()) {
    if (!next->find_group(old->name())) old->close_idle();
  }
  // Connections still queued on a removed listener are accepted under the snapshot they
  // arrived with (their sessions hold it), then the socket closes.
  close_removed_acceptors(*next);
  snapshot_ = std::move(next);
  update_access_logs(reload.log_files);
  for (auto& a : acceptors_) a->set_listener(snapshot_, *snapshot_->find_listener(a->bind()));
  adopt_new_sockets(reload.new_sockets);
  // begin_drain may close the session and unlink it: walk with a saved next pointer.
  for (ClientConnection* s = sessions_; s != nullptr;) {
    ClientConnection* next_session = s->next;
    s->on_reload();
    s = next_session;
  }
  for (size_t g = 0; g < reload.memberships.size() && g < snapshot_->groups().size(); ++g) {
    if (reload.memberships[g]) tell_connections(snapshot_->group(g));
  }
}

void Worker::close_removed_acceptors(const ConfigSnapshot& next) {
  std::vector<std::unique_ptr<Acceptor>> kept;
  for (auto& a : acceptors_) {
    if (next.find_listener(a->bind()) != nullptr) {
      kept.push_back(std::move(a));
    } else {
      a->close_listener();
    }
  }
  acceptors_ = std::move(kept);
}

void Worker::adopt_new_sockets(std::vector<std::pair<core::SocketAddress, int>>& new_sockets) {
  for (auto& [bind, fd] : new_sockets) {
    const config::ListenerConfig* l = snapshot_->find_listener(bind);
    if (l == nullptr || draining_) {
      ::close(fd);
      continue;
    }
    acceptors_.push_back(std::make_unique<Acceptor>(*this, snapshot_, *l, fd));
    loop_.add_level_triggered(fd, EPOLLIN, acceptors_.back().get());
  }
  new_sockets.clear();
}

void Worker::request_shutdown(int64_t deadline_ms) {
  loop_.post([this, deadline_ms] { begin_shutdown(deadline_ms); });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::accept_connection(std::shared_ptr<const ConfigSnapshot> snapshot,
                               const config::ListenerConfig& listener,
                               const std::shared_ptr<metrics::ListenerStats>& stats,
                               const std::shared_ptr<AccessLogWriter>& access_log, int fd,
                               const core::SocketAddress& peer,
                               ConnectionLimiter::Admission admission) {
  if (listener.protocol == config::ListenerConfig::Protocol::kTcp) {
    auto* relay =
        new TcpSession(*this, std::move(snapshot), listener, stats, fd, peer, std::move(admission));
    link(relay);
    relay->start();
    return;
  }
  auto* session = new Session(*this, std::move(snapshot), listener, stats, access_log, fd, peer,
                              std::move(admission));
  link(session);
  session->start();
}

void Worker::link(ClientConnection* c) {
  c->next = sessions_;
  if (sessions_ != nullptr) sessions_->prev = c;
  sessions_ = c;
  ++session_count_;
}

void Worker::adopt_http2(H2Connection::Handover handover) {
  auto* connection = new H2Connection(*this, std::move(handover));
  link(connection);
  connection->start();
}

KernelNotices* Worker::kernel_notices() {
  if (!kernel_notices_opened_) {
    kernel_notices_opened_ = true;
    kernel_notices_ = KernelNotices::open(loop_, index_);
  }
  return kernel_notices_.get();
}

void Worker::session_closed(ClientConnection* session) {
  if (session->prev != nullptr)
    session->prev->next = session->next;
  else
    sessions_ = session->next;
  if (session->next != nullptr) session->next->prev = session->prev;
  session->prev = session->next = nullptr;
  --session_count_;
  loop_.defer_delete([session] { delete session; });
  if (draining_) maybe_finish_shutdown();
}

void Worker::begin_shutdown(int64_t deadline_ms) {
  if (draining_) return;
  draining_ = true;
  for (auto& a : acceptors_) a->close_listener();
  for (const auto& g : snapshot_->groups()) g->close_idle();
  // begin_drain may close the session and unlink it: walk with a saved next pointer.
  for (ClientConnection* s = sessions_; s != nullptr;) {
    ClientConnection* next = s->next;
    s->begin_drain();
    s = next;
  }
  loop_.timers().arm(shutdown_timer_, deadline_ms, loop_.now_ms());
  maybe_finish_shutdown();
}

void Worker::maybe_finish_shutdown() {
  if (session_count_ == 0) loop_.stop();
}

void Worker::on_shutdown_deadline(void* self) {
  auto* w = static_cast<Worker*>(self);
  if (w->session_count_ > 0) {
    LOG_WARN("worker %u: shutdown_timeout reached, closing %zu connection(s)", w->index_,
             w->session_count_);
  }
  while (w->sessions_ != nullptr) w->sessions_->abort();
  w->loop_.stop();
}

}  // namespace ballast::proxy
