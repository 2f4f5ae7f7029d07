#include "db/database_monitor.h"

#include <algorithm>

#include "core/clock.h"
#include "core/log.h"
#include "db/patroni_status.h"

namespace ballast::db {

namespace {
constexpr size_t kActivitiesKept = 100;

}  // namespace

ReaderPolicy DatabaseMonitor::policy_of(const config::DatabaseConfig& c) {
  return ReaderPolicy{c.max_lag_bytes, c.max_lag_ms, c.fallback};
}

DatabaseMonitor::DatabaseMonitor(core::EventLoop& loop, config::DatabaseConfig config,
                                 Changed changed)
    : loop_(loop),
      config_(std::move(config)),
      changed_(std::move(changed)),
      state_(config_.scope, {}, policy_of(config_)) {
  follow(config_.members);
  if (config_.etcd.endpoints.empty()) return;
  etcd_ = std::make_unique<cluster::EtcdClient>(loop_, config_.etcd, config_.check_timeout_ms);
  keys_ = std::make_unique<PatroniKeys>(
      config_.patroni_namespace, config_.scope,
      PatroniKeys::Callbacks{[this] { discovered(); },
                             [this](const std::string& leader) { leader_changed(leader); }});
  keys_watch_ = std::make_unique<cluster::KeyWatch>(loop_, *etcd_, *keys_,
                                                    "database \"" + config_.name + "\"");
}

DatabaseMonitor::~DatabaseMonitor() {
  for (auto& p : pollers_) {
    http::retire(loop_, std::move(p->call));
  }
}

void DatabaseMonitor::follow(const std::vector<config::DatabaseConfig::Member>& members) {
  for (auto& p : pollers_) {
    http::retire(loop_, std::move(p->call));
  }
  pollers_.clear();
  std::vector<DatabaseState::Member> names;
  for (size_t i = 0; i < members.size(); ++i) {
    names.push_back({members[i].name, members[i].address_text});
    auto p = std::make_unique<Poller>();
    p->monitor = this;
    p->member = i;
    std::string error;
    if (config_.role_source == config::DatabaseConfig::RoleSource::kPostgres) {
      p->probe = std::make_unique<PgProbe>(loop_, conninfo(members[i]), config_.check_timeout_ms);
    } else if (!http::parse_http_url(members[i].rest_url, &p->url, &error)) {
      p->url = {};  // checked by the loader (or PatroniKeys): the member stays unknown
    }
    pollers_.push_back(std::move(p));
  }
  state_ = DatabaseState(config_.scope, std::move(names), policy_of(config_));
  published_.assign(members.size(), {});
  settled_ = false;
}

void DatabaseMonitor::start() {
  for (auto& p : pollers_) ask(*p);
  if (keys_watch_) keys_watch_->start();
}

void DatabaseMonitor::discovered() {
  if (!discovers()) return;  // listed members stay as listed; the keys only speed things up
  std::vector<config::DatabaseConfig::Member> members;
  for (const auto& [name, m] : keys_->members()) {
    config::DatabaseConfig::Member member;
    member.name = name;
    member.address_text = m.address;
    member.rest_url = m.rest_url;
    members.push_back(member);
  }
  std::string names;
  for (const auto& m : members)
    names += (names.empty() ? "" : ", ") + m.name + " " + m.address_text;
  record("members", "Patroni's keys list " + (names.empty() ? std::string("no member") : names));
  follow(members);
  for (auto& p : pollers_) ask(*p);
  changed_();  // the endpoints' groups take the new members (as initial, until settled)
}

void DatabaseMonitor::leader_changed(const std::string& leader) {
  for (auto& p : pollers_) {
    if (leader.empty() || state_.members()[p->member].name == leader) ask_now(*p);
  }
}

void DatabaseMonitor::ask_now(Poller& p) {
  if (p.call) {
    p.again = true;
    return;
  }
  p.timer.cancel();
  ask(p);
}

bool DatabaseMonitor::same_cluster(const config::DatabaseConfig& c) const {
  if (c.scope != config_.scope || c.members.size() != config_.members.size()) return false;
  if (c.role_source != config_.role_source || c.etcd != config_.etcd ||
      c.patroni_namespace != config_.patroni_namespace ||
      c.postgres.user != config_.postgres.user || c.postgres.dbname != config_.postgres.dbname ||
      c.postgres.password_file != config_.postgres.password_file) {
    return false;
  }
  for (size_t i = 0; i < c.members.size(); ++i) {
    const auto& a = c.members[i];
    const auto& b = config_.members[i];
    if (a.name != b.name || a.address_text != b.address_text || a.rest_url != b.rest_url) {
      return false;
    }
  }
  return c.check_timeout_ms == config_.check_timeout_ms;
}

void DatabaseMonitor::reconfigure(const config::DatabaseConfig& config) {
  config_ = config;
  state_.set_policy(policy_of(config_));
}

void DatabaseMonitor::Poller::on_timer(void* self) {
  auto* p = static_cast<Poller*>(self);
  p->monitor->ask(*p);
}

std::string DatabaseMonitor::conninfo(const config::DatabaseConfig::Member& m) const {
  // libpq's keyword=value form, values quoted.
  auto quoted = [](const std::string& v) {
    std::string out = "'";
    for (char c : v) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out + "'";
  };
  const auto& login = config_.postgres;
  std::string info = "host=" + quoted(m.address.ip_string()) +
                     " port=" + std::to_string(m.address.port()) + " user=" + quoted(login.user) +
                     " dbname=" + quoted(login.dbname) + " application_name='ballast-db'";
  if (!login.password_file.empty()) info += " passfile=" + quoted(login.password_file);
  return info;
}

void DatabaseMonitor::ask(Poller& p) {
  p.started_ms = loop_.now_ms();
  if (p.probe) {
    std::weak_ptr<bool> alive = p.alive;
    p.probe->check([this, &p, alive](const std::optional<PatroniStatus>& s, const std::string& e) {
      if (alive.lock()) got(p, s, e);
    });
    return;
  }
  http::HttpCallRequest request;
  request.address = p.url.address;
  request.host = p.url.host;
  request.path = "/primary";
  request.user_agent = "ballast-db";
  std::weak_ptr<bool> alive = p.alive;
  p.call = std::make_unique<http::HttpCall>(
      loop_, std::move(request), config_.check_timeout_ms,
      [this, &p, alive](const http::HttpCallResult& r) {
        if (alive.lock()) answered(p, r);
      },
      64 * 1024);
  p.call->start();
}

void DatabaseMonitor::answered(Poller& p, const http::HttpCallResult& result) {
  http::retire(loop_, std::move(p.call));
  std::string error;
  std::optional<PatroniStatus> status;
  if (!result.answered) {
    error = "Patroni's REST API did not answer: " + result.error;
  } else if (status = parse_patroni_status(result.status, result.body, &error); !status) {
    error =
        "Patroni's REST API answered " + std::to_string(result.status) + ", not a status: " + error;
  }
  got(p, status, error);
}

void DatabaseMonitor::got(Poller& p, const std::optional<PatroniStatus>& status,
                          const std::string& error) {
  const int64_t now = loop_.now_ms();
  ++checks_;
  if (status) {
    state_.report(p.member, *status, now);
  } else {
    ++failed_checks_;
    state_.unreachable(p.member, error, now);
  }
  p.heard = true;
  // The next check a whole interval after this one started, or at once if it took longer.
  int64_t next = std::max<int64_t>(0, p.started_ms + config_.check_interval_ms - now);
  if (p.again) next = 0;  // the leader key moved while this call was out
  p.again = false;
  loop_.timers().arm(p.timer, next == 0 ? 1 : next, now);

  if (!settled_) {
    for (const auto& other : pollers_) {
      if (!other->heard) return;
    }
    settled_ = true;
  }
  if (decide(now)) changed_();
}

bool DatabaseMonitor::decide(int64_t now_ms) {
  std::vector<WriterChange> changes = state_.decide(now_ms);
  note_changes(changes);
  bool changed = !changes.empty();
  const auto& views = state_.members();
  for (size_t i = 0; i < views.size(); ++i) {
    // Details (how far behind) move at every check; only states and reasons are published.
    EndpointVerdict w{views[i].writer.state, views[i].writer.reason, ""};
    EndpointVerdict r{views[i].reader.state, views[i].reader.reason, ""};
    if (published_[i].first != w || published_[i].second != r) {
      published_[i] = {w, r};
      changed = true;
    }
  }
  bool fresh = state_.fresh_replicas() > 0;
  if (config_.reader.enabled && fresh != had_fresh_replicas_) {
    had_fresh_replicas_ = fresh;
    record("reader", fresh ? "replicas are fresh enough for reads again"
                           : std::string("no replica is fresh enough for reads: ") +
                                 (config_.fallback == config::ReaderFallback::kWriter
                                      ? "they go to the primary"
                                      : "they are refused"));
  }
  return changed;
}

void DatabaseMonitor::note_changes(const std::vector<WriterChange>& changes) {
  for (const WriterChange& c : changes) {
    if (c.kind == WriterChange::Kind::kLost) {
      record("lost", "primary " + c.member + " is no longer confirmed: " + c.why);
      continue;
    }
    last_without_ms_ = c.without_ms;
    if (c.previous.empty()) {
      record("started",
             "primary is " + c.member + " (timeline " + std::to_string(c.timeline) + ")");
      continue;
    }
    bool planned = switchover_under_way();
    if (planned) end_switchover(Switchover::Phase::kDone, switchover_.message);
    if (c.previous == c.member) {
      record("restarted", "primary " + c.member + " is confirmed again (timeline " +
                              std::to_string(c.timeline) + ") after " +
                              std::to_string(c.without_ms) + " ms");
      continue;
    }
    record(planned ? "switchover" : "failover",
           "primary is now " + c.member + " (timeline " + std::to_string(c.timeline) + "), was " +
               c.previous + "; " + std::to_string(c.without_ms) +
               " ms without a confirmed primary");
  }
}

void DatabaseMonitor::record(std::string cause, std::string description) {
  ++changes_by_cause_[cause];
  LOG_INFO("database \"%s\": %s (%s)", config_.name.c_str(), description.c_str(), cause.c_str());
  activities_.push_back({core::unix_ms(), std::move(cause), std::move(description)});
  while (activities_.size() > kActivitiesKept) activities_.pop_front();
}

}  // namespace ballast::db
