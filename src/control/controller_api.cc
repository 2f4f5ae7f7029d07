// The admin API's routes: JSON views of the registry and configuration, and the
// operations on targets. Documented in docs/admin-api.md.
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "admin/web_assets.h"
#include "control/api_support.h"
#include "control/controller.h"
#include "core/log.h"

namespace ballast::control {

using nlohmann::json;

namespace {

json target_json(const GroupRecord& g, const TargetRecord& t, int64_t now_ms) {
  json j = {{"address", t.address_text},
            {"weight", t.weight},
            {"state", to_string(g.state_of(t))},
            {"source", t.from_config      ? "config"
                       : !t.owner.empty() ? "autoscaling"
                                          : "api"}};
  if (t.health == health::TargetHealth::kUnhealthy) {
    j["reason"] = health::to_string(t.reason);
    j["detail"] = t.detail;
  }
  if (t.draining) {
    j["deregistering"] = t.deregistering;
    j["draining_for_ms"] = now_ms - t.drain_started_ms;
    if (t.deregistering) j["removal_in_ms"] = std::max<int64_t>(0, t.drain_deadline_ms - now_ms);
  }
  return j;
}

json health_check_json(const config::HealthCheckConfig& hc) {
  if (!hc.enabled) return nullptr;
  json matcher = json::array();
  for (auto [lo, hi] : hc.matcher) {
    matcher.push_back(lo == hi ? std::to_string(lo)
                               : std::to_string(lo) + "-" + std::to_string(hi));
  }
  return {{"protocol", hc.protocol == config::HealthCheckConfig::Protocol::kHttp ? "http" : "tcp"},
          {"path", hc.path},
          {"interval_ms", hc.interval_ms},
          {"timeout_ms", hc.timeout_ms},
          {"healthy_threshold", hc.healthy_threshold},
          {"unhealthy_threshold", hc.unhealthy_threshold},
          {"matcher", matcher}};
}

json group_json(const GroupRecord& g, const config::TargetGroupConfig& gc, int64_t now_ms) {
  json targets = json::array();
  size_t healthy = 0;
  size_t serving = 0;
  for (const auto& t : g.targets) {
    targets.push_back(target_json(g, t, now_ms));
    healthy += g.state_of(t) == health::TargetHealth::kHealthy;
    serving += !t.draining;
  }
  // ALB's fail-open: with no healthy target, every registered target gets traffic.
  bool failing_open = g.used && gc.fail_open && healthy == 0 && serving > 0;
  return {{"name", g.name},
          {"algorithm", lb::algorithm_name(gc.algorithm)},
          {"used", g.used},
          {"fail_open", gc.fail_open},
          {"failing_open", failing_open},
          {"healthy_count", healthy},
          {"deregistration_delay_ms", gc.deregistration_delay_ms},
          {"health_check", health_check_json(gc.health_check)},
          {"targets", targets}};
}

const char* action_name(config::RuleConfig::Action a) {
  switch (a) {
    case config::RuleConfig::Action::kForward:
      return "forward";
    case config::RuleConfig::Action::kFixedResponse:
      return "fixed_response";
    case config::RuleConfig::Action::kRedirect:
      return "redirect";
  }
  return "unknown";
}

json listener_json(const config::ListenerConfig& l) {
  json rules = json::array();
  for (const auto& r : l.rules) {
    json rule = {{"action", action_name(r.action)}, {"line", r.location.line}};
    if (r.priority) rule["priority"] = *r.priority;
    if (r.action == config::RuleConfig::Action::kForward) {
      json fwd = json::array();
      for (const auto& f : r.forward)
        fwd.push_back({{"target_group", f.target_group}, {"weight", f.weight}});
      rule["forward"] = fwd;
      if (r.cache.enabled) rule["cache"] = true;
    } else {
      rule["status"] = r.status;
    }
    rules.push_back(rule);
  }
  return {{"name", l.name}, {"bind", l.bind.to_string()}, {"rules", rules}};
}

// A weight from the body, or `fallback` when absent.
uint32_t weight_from(const json& body, uint32_t fallback) {
  if (!body.contains("weight")) return fallback;
  const json& w = body["weight"];
  if (!w.is_number_integer() || w.get<int64_t>() < 0) {
    throw admin::ClientError(400, "\"weight\" must be a whole number from 0 to 1000000");
  }
  return static_cast<uint32_t>(std::min<int64_t>(w.get<int64_t>(), 1000001));
}

int status_of(const TargetRegistry::Outcome& outcome) {
  using Code = TargetRegistry::Outcome::Code;
  switch (outcome.code) {
    case Code::kOk:
      return 200;
    case Code::kNotFound:
      return 404;
    case Code::kConflict:
      return 409;
    case Code::kInvalid:
      return 400;
  }
  return 400;
}

}  // namespace

admin::AdminResponse Controller::handle_api(const admin::AdminRequest& request) {
  loop_.update_time();
  if (const admin::WebAsset* asset = admin::find_web_asset(request.path)) {
    if (request.method != "GET" && request.method != "HEAD") {
      return admin::error_response(405, "use GET");
    }
    std::string type = asset->content_type;
    if (type.rfind("text/", 0) == 0) type += "; charset=utf-8";
    return admin::AdminResponse{
        200, std::string(reinterpret_cast<const char*>(asset->data), asset->size), type};
  }
  // A follower of a cluster runs no autoscaler: the leader's API has the groups.
  if (cluster_ && !runs_autoscaler() && request.path.rfind("/api/v1/autoscaling-groups/", 0) == 0) {
    return admin::error_response(409, not_the_leader());
  }
  return router_.dispatch(request);
}

const GroupRecord& Controller::group_named(const std::string& name) const {
  const GroupRecord* g = registry_.find_group(name);
  if (g == nullptr) throw admin::ClientError(404, "no target group named \"" + name + "\"");
  return *g;
}

const std::string& Controller::existing_group(const admin::PathParams& p) const {
  // Checked, then named by the path's own string: the registry may change while the answer
  // is built, so nothing here points into it.
  group_named(p["group"]);
  return p["group"];
}

admin::AdminResponse Controller::target_change(const std::string& group,
                                               const TargetRegistry::Outcome& outcome,
                                               int ok_status, const json& ok_body,
                                               const std::string& what) {
  // A done change reaches the workers and the health checks; either way the outcome
  // becomes the answer.
  if (!outcome.ok()) return admin::error_response(status_of(outcome), outcome.message);
  LOG_INFO("API: %s in target group \"%s\"", what.c_str(), group.c_str());
  auto in_effect = publish();
  sync_checkers();
  return ok_json(ok_body, ok_status, std::move(in_effect));
}

void Controller::add_routes() {
  using admin::AdminRequest;
  using admin::PathParams;
  admin::Router& r = router_;
  r.add("GET", "/metrics", [this](const PathParams&, const AdminRequest&) {
    return admin::AdminResponse{200, render_prometheus(),
                                "text/plain; version=0.0.4; charset=utf-8"};
  });
  r.add("GET", "/api/v1/status", [this](const PathParams&, const AdminRequest&) {
    json errors = reload_status_.errors;
    return ok_json({{"version", "0.1.0"},
                    {"config_file", config_path_},
                    {"config_generation", reload_status_.generation},
                    {"workers", workers_.size()},
                    {"started_at", started_unix_},
                    {"pid", ::getpid()},
                    {"last_reload",
                     {{"at", reload_status_.last_attempt_unix},
                      {"ok", reload_status_.last_ok},
                      {"errors", errors}}},
                    {"last_upgrade",
                     {{"at", upgrade_status_.at_unix},
                      {"ok", upgrade_status_.ok},
                      {"message", upgrade_status_.message},
                      {"new_pid", upgrade_status_.new_pid}}}});
  });
  r.add("POST", "/api/v1/upgrade", [this](const PathParams&, const AdminRequest&) {
    std::string error;
    if (!begin_upgrade("API", &error)) throw admin::ClientError(409, error);
    return ok_json(
        {{"upgrade", "started"}, {"old_pid", ::getpid()}, {"new_pid", upgrade_status_.new_pid}},
        202);
  });
  r.add("POST", "/api/v1/reload", [this](const PathParams&, const AdminRequest&) {
    auto in_effect = reload("API");
    json errors = reload_status_.errors;
    if (!in_effect) {
      return ok_json({{"reloaded", false},
                      {"error", "the configuration has errors; the running one stays"},
                      {"errors", errors}},
                     422);
    }
    return ok_json({{"reloaded", true}, {"config_generation", reload_status_.generation}}, 200,
                   std::move(in_effect));
  });
  r.add("GET", "/api/v1/metrics", [this](const PathParams&, const AdminRequest&) {
    json list = json::array();
    for (const auto& k : series_.keys()) {
      json dims = json::object();
      for (const auto& [name, value] : k.dimensions) dims[name] = value;
      list.push_back({{"metric", k.metric}, {"dimensions", dims}});
    }
    return ok_json({{"metrics", list},
                    {"per_second_retention_s", series_.seconds_kept()},
                    {"per_minute_retention_min", series_.minutes_kept()},
                    {"memory_bytes", series_.memory_bytes()}});
  });
  r.add("GET", "/api/v1/metrics/query",
        [this](const PathParams&, const AdminRequest& request) { return metrics_query(request); });
  r.add("GET", "/api/v1/alarms", [this](const PathParams&, const AdminRequest&) {
    return ok_json({{"alarms", alarms_json("")}});
  });
  r.add("GET", "/api/v1/alarms/{alarm}", [this](const PathParams& p, const AdminRequest&) {
    json list = alarms_json(p["alarm"]);
    if (list.empty()) throw admin::ClientError(404, "no alarm named \"" + p["alarm"] + "\"");
    return ok_json(list[0]);
  });
  r.add("GET", "/api/v1/listeners", [this](const PathParams&, const AdminRequest&) {
    json list = json::array();
    for (const auto& l : config_->listeners) list.push_back(listener_json(l));
    return ok_json({{"listeners", list}});
  });
  r.add("GET", "/api/v1/certificates",
        [this](const PathParams&, const AdminRequest&) { return ok_json(certificates_json()); });
  r.add("GET", "/api/v1/target-groups", [this](const PathParams&, const AdminRequest&) {
    json list = json::array();
    metrics::Totals totals = metrics::sum_over_workers(metrics_);
    for (const auto& g : registry_.groups()) {
      json j = group_json(g, config_->target_groups[g.config_index], loop_.now_ms());
      j["counters"] = group_counters(totals, g.name);
      list.push_back(std::move(j));
    }
    return ok_json({{"target_groups", list}});
  });
  r.add("GET", "/api/v1/target-groups/{group}", [this](const PathParams& p, const AdminRequest&) {
    const GroupRecord& g = group_named(p["group"]);
    json j = group_json(g, config_->target_groups[g.config_index], loop_.now_ms());
    j["counters"] = group_counters(metrics::sum_over_workers(metrics_), g.name);
    return ok_json(j);
  });
  add_target_routes();
  add_cache_routes();
  add_fault_routes();
  add_cluster_routes();
  add_database_routes();
  add_readiness_routes();
  autoscaler_.add_routes(router_);
}

TargetRegistry::Outcome apply_target_op(TargetRegistry& registry, const TargetOp& op,
                                        int64_t now_ms) {
  switch (op.kind) {
    case TargetOp::Kind::kRegister:
      return registry.register_target(op.group, op.address, op.weight);
    case TargetOp::Kind::kDeregister:
      return registry.deregister_target(op.group, op.address, now_ms);
    case TargetOp::Kind::kWeight:
      return registry.set_weight(op.group, op.address, op.weight);
    case TargetOp::Kind::kDrain:
      return registry.drain(op.group, op.address, now_ms);
    case TargetOp::Kind::kUndrain:
      return registry.undrain(op.group, op.address);
  }
  return {};
}

TargetOp::Answer TargetOp::answer() const {
  switch (kind) {
    case Kind::kRegister:
      return {201, {{"registered", address}, {"target_group", group}}, "registered " + address};
    case Kind::kDeregister:
      return {
          202, {{"deregistering", address}, {"target_group", group}}, "deregistering " + address};
    case Kind::kWeight:
      return {200,
              {{"target", address}, {"weight", weight}},
              "weight of " + address + " set to " + std::to_string(weight)};
    case Kind::kDrain:
      return {200, {{"draining", address}}, "drain " + address};
    case Kind::kUndrain:
      return {200, {{"serving", address}}, "undrain " + address};
  }
  return {};
}

admin::AdminResponse Controller::change_target(const TargetOp& op) {
  // A node of a cluster writes the change to etcd; every node applies it from there.
  if (cluster_) return change_cluster_target(op);
  TargetOp::Answer a = op.answer();
  return target_change(op.group, apply_target_op(registry_, op, loop_.now_ms()), a.status, a.body,
                       a.what);
}

void Controller::add_target_routes() {
  using admin::AdminRequest;
  using admin::PathParams;
  using Kind = TargetOp::Kind;
  admin::Router& r = router_;
  r.add("POST", "/api/v1/target-groups/{group}/targets",
        [this](const PathParams& p, const AdminRequest& request) {
          const std::string& group = existing_group(p);
          json body = parse_body(request);
          if (!body.contains("address") || !body["address"].is_string()) {
            throw admin::ClientError(400, "the body needs \"address\": \"IP:PORT\"");
          }
          return change_target({Kind::kRegister, group, body["address"], weight_from(body, 1)});
        });
  r.add("DELETE", "/api/v1/target-groups/{group}/targets/{address}",
        [this](const PathParams& p, const AdminRequest&) {
          return change_target({Kind::kDeregister, existing_group(p), p["address"]});
        });
  auto set_weight = [this](const PathParams& p, const AdminRequest& request) {
    const std::string& group = existing_group(p);
    json body = parse_body(request);
    if (!body.contains("weight")) throw admin::ClientError(400, "the body needs \"weight\": N");
    return change_target({Kind::kWeight, group, p["address"], weight_from(body, 0)});
  };
  r.add("PATCH", "/api/v1/target-groups/{group}/targets/{address}", set_weight);
  r.add("PUT", "/api/v1/target-groups/{group}/targets/{address}", set_weight);
  r.add("POST", "/api/v1/target-groups/{group}/targets/{address}/drain",
        [this](const PathParams& p, const AdminRequest&) {
          return change_target({Kind::kDrain, existing_group(p), p["address"]});
        });
  r.add("POST", "/api/v1/target-groups/{group}/targets/{address}/undrain",
        [this](const PathParams& p, const AdminRequest&) {
          return change_target({Kind::kUndrain, existing_group(p), p["address"]});
        });
}

}  // namespace ballast::control
