#include "db/database_monitor.h"

#include "core/clock.h"
#include "core/log.h"
#include "db/patroni_status.h"

namespace ballast::db {

namespace {
constexpr size_t kActivitiesKept = 100;

std::vector<DatabaseState::Member> members_of(const config::DatabaseConfig& c) {
  std::vector<DatabaseState::Member> members;
  for (const auto& m : c.members) members.push_back({m.name, m.address_text});
  return members;
}
}  // namespace

ReaderPolicy DatabaseMonitor::policy_of(const config::DatabaseConfig& c) {
  return ReaderPolicy{c.max_lag_bytes, c.max_lag_ms,
                      c.fallback == config::ReaderFallback::kWriter ? ReaderFallback::kWriter
                                                                    : ReaderFallback::kRefuse};
}

DatabaseMonitor::DatabaseMonitor(core::EventLoop& loop, config::DatabaseConfig config,
                                 Changed changed)
    : loop_(loop),
      config_(std::move(config)),
      changed_(std::move(changed)),
      state_(config_.scope, members_of(config_), policy_of(config_)) {
  for (size_t i = 0; i < config_.members.size(); ++i) {
    auto p = std::make_unique<Poller>();
    p->monitor = this;
    p->member = i;
    std::string error;
    // Checked by the loader; an address it cannot read again leaves the member unknown.
    if (!http::parse_http_url(config_.members[i].rest_url, &p->url, &error)) p->url = {};
    pollers_.push_back(std::move(p));
  }
  published_.resize(config_.members.size());
}

DatabaseMonitor::~DatabaseMonitor() {
  for (auto& p : pollers_) {
    if (http::HttpCall* raw = p->call.release()) loop_.defer_delete([raw] { delete raw; });
  }
}

void DatabaseMonitor::start() {
  for (auto& p : pollers_) ask(*p);
}

bool DatabaseMonitor::same_cluster(const config::DatabaseConfig& c) const {
  if (c.scope != config_.scope || c.members.size() != config_.members.size()) return false;
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

void DatabaseMonitor::ask(Poller& p) {
  p.started_ms = loop_.now_ms();
  http::HttpCallRequest request;
  request.address = p.url.address;
  request.host = p.url.host;
  request.path = "/primary";
  request.user_agent = "ballast-db";
  p.call = std::make_unique<http::HttpCall>(
      loop_, std::move(request), config_.check_timeout_ms,
      [this, &p](const http::HttpCallResult& r) { answered(p, r); }, 64 * 1024);
  p.call->start();
}

void DatabaseMonitor::answered(Poller& p, const http::HttpCallResult& result) {
  if (http::HttpCall* raw = p.call.release()) loop_.defer_delete([raw] { delete raw; });
  const int64_t now = loop_.now_ms();
  ++checks_;
  std::string error;
  std::optional<PatroniStatus> status;
  if (!result.answered) {
    error = "Patroni's REST API did not answer: " + result.error;
  } else if (status = parse_patroni_status(result.status, result.body, &error); !status) {
    error =
        "Patroni's REST API answered " + std::to_string(result.status) + ", not a status: " + error;
  }
  if (status) {
    state_.report(p.member, *status, now);
  } else {
    ++failed_checks_;
    state_.unreachable(p.member, error, now);
  }
  p.heard = true;
  // The next check a whole interval after this one started, or at once if it took longer.
  int64_t next = std::max<int64_t>(0, p.started_ms + config_.check_interval_ms - now);
  loop_.timers().arm(p.timer, next == 0 ? 1 : next, now);

  if (!settled_) {
    for (const auto& other : pollers_) {
      if (!other->heard) return;
    }
    settled_ = true;
  }
  std::vector<WriterChange> changes = state_.decide(now);
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
  if (changed) changed_(changes);
}

void DatabaseMonitor::note_changes(const std::vector<WriterChange>& changes) {
  for (const WriterChange& c : changes) {
    if (c.kind == WriterChange::Kind::kLost) {
      record("lost", "primary " + c.member + " is no longer confirmed: " + c.why);
      continue;
    }
    ++promotions_;
    if (c.previous.empty()) {
      record("started",
             "primary is " + c.member + " (timeline " + std::to_string(c.timeline) + ")");
      continue;
    }
    bool planned = loop_.now_ms() <= switchover_until_ms_;
    if (planned) switchover_until_ms_ = 0;
    record(planned ? "switchover" : "failover",
           "primary is now " + c.member + " (timeline " + std::to_string(c.timeline) + "), was " +
               c.previous + "; " + std::to_string(c.without_ms) +
               " ms without a confirmed primary");
  }
}

void DatabaseMonitor::record(std::string cause, std::string description) {
  LOG_INFO("database \"%s\": %s (%s)", config_.name.c_str(), description.c_str(), cause.c_str());
  activities_.push_back({core::unix_ms(), std::move(cause), std::move(description)});
  while (activities_.size() > kActivitiesKept) activities_.pop_front();
}

}  // namespace ballast::db
