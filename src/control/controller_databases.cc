// Database endpoints (docs/databases.md): one DatabaseMonitor per Patroni cluster follows
// its members' roles; each change becomes the health of the members in the endpoints'
// groups ("NAME-writer", "NAME-reader"), published to the workers like a health check's.
#include "control/api_support.h"
#include "control/controller.h"
#include "core/log.h"
#include "lb/hash.h"

namespace ballast::control {

using nlohmann::json;

void Controller::sync_databases() {
  std::map<std::string, std::unique_ptr<db::DatabaseMonitor>> next;
  for (const config::DatabaseConfig& d : config_->databases) {
    auto it = databases_.find(d.name);
    if (it != databases_.end() && it->second->same_cluster(d)) {
      it->second->reconfigure(d);
      next[d.name] = std::move(it->second);
      continue;
    }
    std::string name = d.name;
    auto monitor =
        std::make_unique<db::DatabaseMonitor>(loop_, d, [this, name] { database_changed(name); });
    monitor->start();
    next[d.name] = std::move(monitor);
  }
  databases_ = std::move(next);
  std::set<std::string> names;
  for (const auto& [name, monitor] : databases_) {
    names.insert(name);
    writer_nat_.follow(*monitor);
  }
  writer_nat_.keep_only(names);
}

void Controller::sync_discovered_members(const db::DatabaseMonitor& monitor) {
  const config::DatabaseConfig& d = monitor.config();
  std::vector<std::string> addresses;
  for (const db::MemberView& m : monitor.state().members()) addresses.push_back(m.address);
  std::vector<std::string> groups = {d.writer_name()};
  if (d.reader.enabled) groups.push_back(d.reader_name());
  for (const std::string& group : groups) {
    for (const std::string& refused :
         registry_.set_database_members(group, addresses, loop_.now_ms())) {
      LOG_WARN(
          "database \"%s\": member address %s from Patroni's keys is not a numeric "
          "IP:PORT; it is left out",
          d.name.c_str(), refused.c_str());
    }
  }
  remove_finished_targets();
}

std::shared_ptr<core::Completion> Controller::database_changed(const std::string& name) {
  auto it = databases_.find(name);
  if (it == databases_.end()) return nullptr;
  const db::DatabaseMonitor& monitor = *it->second;
  const config::DatabaseConfig& d = monitor.config();
  if (monitor.discovers()) sync_discovered_members(monitor);
  for (const db::MemberView& m : monitor.state().members()) {
    uint64_t id = lb::hash_bytes(m.address);
    registry_.set_health(d.writer_name(), id, m.writer.state, m.writer.reason, m.writer.detail);
    if (d.reader.enabled) {
      registry_.set_health(d.reader_name(), id, m.reader.state, m.reader.reason, m.reader.detail);
    }
  }
  // NAT first: a switchover's hold must stop NATed connections before Patroni is asked,
  // which waits for the workers' answer to this publish.
  writer_nat_.follow(monitor);
  return publish();
}

namespace {

json member_json(const db::MemberView& m) {
  json j = {{"name", m.name},
            {"address", m.address},
            {"role", db::to_string(m.role)},
            {"confirmed_primary", m.confirmed_primary},
            {"state", m.state},
            {"timeline", m.timeline},
            {"lag_bytes", m.lag_bytes},
            {"lag_seconds", static_cast<double>(m.lag_ms) / 1000.0},
            {"replay_paused", m.replay_paused},
            {"tags", {{"nofailover", m.nofailover}, {"noloadbalance", m.noloadbalance}}},
            {"writer",
             {{"state", health::to_string(m.writer.state)},
              {"reason", health::to_string(m.writer.reason)},
              {"detail", m.writer.detail}}},
            {"reader",
             {{"state", health::to_string(m.reader.state)},
              {"reason", health::to_string(m.reader.reason)},
              {"detail", m.reader.detail}}}};
  if (!m.error.empty()) j["error"] = m.error;
  return j;
}

json switchover_json(const db::DatabaseMonitor::Switchover& s) {
  return {{"phase", db::DatabaseMonitor::to_string(s.phase)},
          {"from", s.from},
          {"to", s.to},
          {"message", s.message},
          {"started_unix_ms", s.started_unix_ms},
          {"ended_unix_ms", s.ended_unix_ms}};
}

}  // namespace

json Controller::database_json(const db::DatabaseMonitor& monitor,
                               const metrics::Totals& totals) const {
  const config::DatabaseConfig& d = monitor.config();
  const db::DatabaseState& s = monitor.state();
  json members = json::array();
  for (const auto& m : s.members()) members.push_back(member_json(m));
  json activities = json::array();
  for (const auto& a : monitor.activities()) {
    activities.push_back(
        {{"time_unix_ms", a.unix_ms}, {"cause", a.cause}, {"description", a.description}});
  }
  auto endpoint = [&](const config::DatabaseConfig::Endpoint& e, const std::string& name) {
    json j = {{"bind", e.bind.to_string()}, {"listener", name}, {"target_group", name}};
    auto l = totals.listeners.find(name);
    j["active_connections"] = l == totals.listeners.end() ? 0 : l->second.active_connections;
    j["connections"] = l == totals.listeners.end() ? 0 : l->second.connections;
    return j;
  };
  json j = {{"name", d.name},
            {"scope", d.scope},
            {"settled", monitor.settled()},
            {"primary", s.writer() ? s.members()[*s.writer()].name : ""},
            {"fresh_replicas", s.fresh_replicas()},
            {"writer", endpoint(d.writer, d.writer_name())},
            {"members", members},
            {"checks", monitor.checks()},
            {"failed_checks", monitor.failed_checks()},
            {"switchover", switchover_json(monitor.switchover())},
            {"activities", activities}};
  j["writer"]["hold_ms"] = d.hold_ms;
  j["writer"]["relay"] = d.writer_path == config::DatabaseConfig::WriterPath::kNat ? "nat"
                         : d.relay == config::ListenerConfig::Relay::kKernel       ? "kernel"
                                                                                   : "user";
  std::map<std::string, WriterNat::View> nat = writer_nat_.views();
  if (auto n = nat.find(d.name); n != nat.end()) {
    const WriterNat::View& v = n->second;
    j["writer"]["nat"] = {{"steering", v.steering},
                          {"primary", v.primary},
                          {"local_redirect", v.local_redirect},
                          {"reach", v.reach},
                          {"why", v.why},
                          {"connections", v.connections},
                          {"redirected_connections", v.redirected},
                          {"cut_flows", v.cut_flows}};
  }
  if (d.reader.enabled) {
    j["reader"] = endpoint(d.reader, d.reader_name());
    j["reader"]["max_lag_bytes"] = d.max_lag_bytes;
    j["reader"]["max_lag_ms"] = d.max_lag_ms;
    j["reader"]["fallback"] = d.fallback == config::ReaderFallback::kWriter ? "writer" : "refuse";
  }
  return j;
}

db::DatabaseMonitor& Controller::database_named(const std::string& name) {
  auto it = databases_.find(name);
  if (it == databases_.end()) throw admin::ClientError(404, "no database named \"" + name + "\"");
  return *it->second;
}

void Controller::add_database_routes() {
  router_.add("GET", "/api/v1/databases",
              [this](const admin::PathParams&, const admin::AdminRequest&) {
                metrics::Totals totals = metrics::sum_over_workers(metrics_);
                json list = json::array();
                for (const auto& [name, monitor] : databases_) {
                  list.push_back(database_json(*monitor, totals));
                }
                return ok_json({{"databases", list}});
              });
  router_.add("GET", "/api/v1/databases/{name}",
              [this](const admin::PathParams& p, const admin::AdminRequest&) {
                return ok_json(
                    database_json(database_named(p["name"]), metrics::sum_over_workers(metrics_)));
              });
  router_.add("POST", "/api/v1/databases/{name}/switchover",
              [this](const admin::PathParams& p, const admin::AdminRequest& r) {
                return start_switchover(p["name"], parse_body(r));
              });
}

admin::AdminResponse Controller::start_switchover(const std::string& name, const json& body) {
  db::DatabaseMonitor& monitor = database_named(name);
  std::string to;
  if (auto it = body.find("to"); it != body.end()) {
    if (!it->is_string()) throw admin::ClientError(400, "\"to\" must be a member's name");
    to = it->get<std::string>();
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "to") throw admin::ClientError(400, "unknown field \"" + key + "\" (expected to)");
  }
  if (std::string why = monitor.begin_switchover(to); !why.empty()) {
    throw admin::ClientError(409, why);
  }
  // Patroni is asked only once every worker holds new writer connections: none may reach
  // the primary while it shuts down.
  auto ask = [this, name] {
    auto it = databases_.find(name);
    if (it != databases_.end()) it->second->request_switchover();
  };
  std::shared_ptr<core::Completion> in_effect = database_changed(name);
  if (in_effect) {
    in_effect->then(ask);
  } else {
    ask();
  }
  return ok_json({{"switchover", switchover_json(monitor.switchover())}}, 202);
}

void Controller::render_database_metrics(metrics::PrometheusWriter& w) const {
  if (databases_.empty()) return;
  using Type = metrics::PrometheusWriter::Type;
  w.family("ballast_db_member_role", Type::kGauge,
           "1 for the role and PostgreSQL state each member has as ballast sees it (unknown: "
           "no usable status).");
  for (const auto& [name, monitor] : databases_) {
    for (const auto& m : monitor->state().members()) {
      w.sample({{"database", name},
                {"member", m.name},
                {"role", db::to_string(m.role)},
                {"state", m.state.empty() ? "unknown" : m.state}},
               1);
    }
  }
  // One sample per member (replicas only where `replicas_only`).
  auto per_member = [&](const char* family, const char* help, bool replicas_only,
                        const std::function<double(const db::MemberView&)>& value) {
    w.family(family, Type::kGauge, help);
    for (const auto& [name, monitor] : databases_) {
      for (const auto& m : monitor->state().members()) {
        if (replicas_only && m.role != db::Role::kReplica) continue;
        w.sample({{"database", name}, {"member", m.name}}, value(m));
      }
    }
  };
  per_member("ballast_db_member_timeline", "Each member's PostgreSQL timeline.", false,
             [](const db::MemberView& m) { return static_cast<double>(m.timeline); });
  per_member("ballast_db_replica_lag_bytes",
             "How far each replica's replay is behind the primary's WAL position.", true,
             [](const db::MemberView& m) { return static_cast<double>(m.lag_bytes); });
  per_member("ballast_db_replica_lag_seconds",
             "How long ago the primary passed the position each replica has replayed to.", true,
             [](const db::MemberView& m) { return static_cast<double>(m.lag_ms) / 1000.0; });
  w.family("ballast_db_writer_available", Type::kGauge,
           "1 while the writer endpoint has a confirmed primary.");
  for (const auto& [name, monitor] : databases_) {
    w.sample({{"database", name}}, monitor->state().writer() ? 1 : 0);
  }
  if (std::map<std::string, WriterNat::View> nat = writer_nat_.views(); !nat.empty()) {
    w.family("ballast_db_writer_nat_steering", Type::kGauge,
             "1 while relay: nat sends the writer's new connections to the primary by NAT.");
    for (const auto& [name, v] : nat) w.sample({{"database", name}}, v.steering ? 1 : 0);
    w.family("ballast_db_writer_nat_connections_total", Type::kCounter,
             "Writer connections sent to the primary by NAT (those ballast relays count as its "
             "listener's).");
    for (const auto& [name, v] : nat) {
      w.sample({{"database", name}}, static_cast<double>(v.connections));
    }
    w.family("ballast_db_writer_nat_cut_flows_total", Type::kCounter,
             "NATed writer connections cut because their member was fenced.");
    for (const auto& [name, v] : nat) {
      w.sample({{"database", name}}, static_cast<double>(v.cut_flows));
    }
  }
  w.family("ballast_db_role_changes_total", Type::kCounter,
           "Role changes the writer endpoint followed, by cause: started (the first primary "
           "seen), lost, restarted, failover, switchover; and reader (no replica fresh enough, "
           "or fresh again) and members (found in Patroni's keys).");
  for (const auto& [name, monitor] : databases_) {
    for (const auto& [cause, count] : monitor->changes_by_cause()) {
      w.sample({{"database", name}, {"cause", cause}}, static_cast<double>(count));
    }
  }
  w.family("ballast_db_last_unavailable_seconds", Type::kGauge,
           "How long the writer endpoint was without a confirmed primary before its latest one.");
  for (const auto& [name, monitor] : databases_) {
    w.sample({{"database", name}}, static_cast<double>(monitor->last_without_ms()) / 1000.0);
  }
  w.family("ballast_db_failed_checks_total", Type::kCounter,
           "Checks of a member's Patroni REST API that gave no usable status.");
  for (const auto& [name, monitor] : databases_) {
    w.sample({{"database", name}}, static_cast<double>(monitor->failed_checks()));
  }
}

void Controller::sample_databases(int64_t second) {
  using Key = metrics::TimeSeriesStore::SeriesKey;
  using Kind = metrics::TimeSeriesStore::Kind;
  if (second % 60 == 0) writer_nat_.sweep();
  for (const auto& [name, monitor] : databases_) {
    series_.record(Key{"WriterAvailable", {{"database", name}}}, Kind::kGauge, second,
                   monitor->state().writer() ? 1 : 0);
    for (const auto& m : monitor->state().members()) {
      if (m.role != db::Role::kReplica) continue;
      std::map<std::string, std::string> dims{{"database", name}, {"member", m.name}};
      series_.record(Key{"ReplicaLagBytes", dims}, Kind::kGauge, second,
                     static_cast<double>(m.lag_bytes));
      series_.record(Key{"ReplicaLagSeconds", dims}, Kind::kGauge, second,
                     static_cast<double>(m.lag_ms) / 1000.0);
    }
  }
}

}  // namespace ballast::control
