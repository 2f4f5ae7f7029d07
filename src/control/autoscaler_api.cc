// The admin API's autoscaling routes (docs/admin-api.md):
//   GET    /api/v1/autoscaling-groups[/NAME]
//   GET    /api/v1/autoscaling-groups/NAME/activities
//   PUT    /api/v1/autoscaling-groups/NAME/desired        {"desired_capacity": N}
//   POST   /api/v1/autoscaling-groups/NAME/instances/ID/protect | unprotect
//   POST   /api/v1/autoscaling-groups/NAME/refresh         (DELETE cancels it)
#include <ctime>

#include "control/api_support.h"
#include "control/autoscaler.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/time_format.h"

namespace ballast::control {

using nlohmann::json;

namespace {

json time_json(int64_t unix_ms) {
  if (unix_ms <= 0) return nullptr;
  return core::iso8601_utc(unix_ms / 1000);
}

json activity_json(const scale::Activity& a) {
  json j = {{"id", a.id},
            {"description", a.description},
            {"cause", a.cause},
            {"status", a.status},
            {"start_time", time_json(a.start_unix_ms)},
            {"end_time", time_json(a.end_unix_ms)}};
  if (!a.instance_id.empty()) j["instance_id"] = a.instance_id;
  if (!a.detail.empty()) j["detail"] = a.detail;
  return j;
}

json instance_json(const scale::Instance& i, int64_t now_ms, int64_t warmup_ms) {
  json j = {
      {"instance_id", i.id},
      {"state", scale::to_string(i.state)},
      {"zone", i.zone},
      {"address", i.address},
      {"provider_id", i.provider_id},
      {"launch_template_version", i.template_version},
      {"launched_at", time_json(i.launch_unix_ms)},
      {"protected_from_scale_in", i.protected_from_scale_in},
      {"warming_up", i.state == scale::InstanceState::kInService && !i.warmed(now_ms, warmup_ms)}};
  if (i.replace) j["replacing"] = i.replace_reason;
  if (i.provider) {
    scale::InstanceUsage u = i.provider->usage(i.id);
    if (u.cpu_percent) j["cpu_percent"] = *u.cpu_percent;
    if (u.memory_bytes) j["memory_bytes"] = *u.memory_bytes;
  }
  return j;
}

}  // namespace

json Autoscaler::group_json(const Managed& m, bool detail) const {
  const scale::ScalingGroup& g = *m.group;
  int64_t now = loop_.now_ms();
  json instances = json::array();
  for (const auto& i : g.instances()) {
    if (detail || i->state != scale::InstanceState::kTerminated)
      instances.push_back(instance_json(*i, now, g.config().instance_warmup_ms));
  }
  json policies = json::array();
  for (const auto& p : m.policies->status()) {
    json pj = {
        {"name", p.name}, {"type", p.type}, {"metric", nullptr}, {"recommendation", nullptr}};
    if (p.metric) pj["metric"] = *p.metric;
    if (p.recommendation) pj["recommendation"] = *p.recommendation;
    if (!p.note.empty()) pj["note"] = p.note;
    policies.push_back(pj);
  }
  const scale::RefreshStatus& r = g.refresh();
  json refresh = nullptr;
  if (!r.status.empty()) {
    refresh = {{"status", r.status},
               {"cause", r.cause},
               {"start_time", time_json(r.start_unix_ms)},
               {"end_time", time_json(r.end_unix_ms)},
               {"instances_to_replace", r.total},
               {"percentage_complete", r.total == 0 ? 100 : 100 * r.replaced / r.total}};
  }
  json j = {
      {"name", g.name()},
      {"target_group", g.config().target_group},
      {"min_size", g.min_size()},
      {"max_size", g.max_size()},
      {"desired_capacity", g.desired()},
      {"in_service", g.count(scale::InstanceState::kInService)},
      {"pending",
       g.count(scale::InstanceState::kPending) + g.count(scale::InstanceState::kPendingWait)},
      {"terminating", g.count(scale::InstanceState::kTerminating) +
                          g.count(scale::InstanceState::kTerminatingWait)},
      {"zones", g.config().zones},
      {"launch_template_version", g.template_version()},
      {"launch_problem", g.launch_problem().empty() ? json(nullptr) : json(g.launch_problem())},
      {"instance_refresh", refresh},
      {"policies", policies},
      {"instances", instances}};
  return j;
}

json Autoscaler::groups_json() const {
  json list = json::array();
  for (const auto& [name, m] : groups_) list.push_back(group_json(m, false));
  return list;
}

admin::AdminResponse Autoscaler::handle_api(const std::vector<std::string>& parts,
                                            const admin::AdminRequest& request) {
  const std::string& method = request.method;
  int64_t unix_ms = core::unix_ms();
  if (parts.size() == 1) {
    if (method != "GET") return admin::error_response(405, "use GET");
    return ok_json({{"autoscaling_groups", groups_json()}});
  }
  Managed* m = find(parts[1]);
  if (m == nullptr)
    return admin::error_response(404, "no autoscaling group named \"" + parts[1] + "\"");
  scale::ScalingGroup& g = *m->group;
  if (parts.size() == 2) {
    if (method != "GET") return admin::error_response(405, "use GET");
    return ok_json(group_json(*m, true));
  }
  const std::string& what = parts[2];
  if (what == "activities" && parts.size() == 3) {
    if (method != "GET") return admin::error_response(405, "use GET");
    json list = json::array();
    const auto& acts = g.activities();
    for (auto it = acts.rbegin(); it != acts.rend(); ++it) list.push_back(activity_json(*it));
    return ok_json({{"autoscaling_group", g.name()}, {"activities", list}});
  }
  if (what == "desired" && parts.size() == 3) {
    if (method != "PUT" && method != "POST") return admin::error_response(405, "use PUT");
    json body = parse_body(request);
    if (!body.contains("desired_capacity") || !body["desired_capacity"].is_number_integer())
      return admin::error_response(400, "the body needs \"desired_capacity\": N");
    int64_t n = body["desired_capacity"].get<int64_t>();
    if (n < g.min_size() || n > g.max_size()) {
      return admin::error_response(422, "desired capacity " + std::to_string(n) +
                                            " is outside min_size " + std::to_string(g.min_size()) +
                                            " .. max_size " + std::to_string(g.max_size()));
    }
    int before = g.desired();
    g.set_desired(static_cast<int>(n), "set through the API");
    return ok_json({{"autoscaling_group", g.name()},
                    {"previous_desired_capacity", before},
                    {"desired_capacity", g.desired()}});
  }
  if (what == "instances" && parts.size() == 5 &&
      (parts[4] == "protect" || parts[4] == "unprotect")) {
    if (method != "POST") return admin::error_response(405, "use POST");
    bool on = parts[4] == "protect";
    if (!g.set_protected(parts[3], on))
      return admin::error_response(404,
                                   "no active instance " + parts[3] + " in \"" + g.name() + "\"");
    LOG_INFO("API: instance %s %s from scale-in", parts[3].c_str(),
             on ? "protected" : "no longer protected");
    return ok_json({{"instance_id", parts[3]}, {"protected_from_scale_in", on}});
  }
  if (what == "refresh" && parts.size() == 3) {
    if (method == "POST") {
      std::string error;
      if (!g.start_refresh("started through the API", unix_ms, &error, /*all=*/true))
        return admin::error_response(409, error);
      return ok_json({{"autoscaling_group", g.name()}, {"instance_refresh", "InProgress"}}, 202);
    }
    if (method == "DELETE") {
      if (!g.cancel_refresh(unix_ms))
        return admin::error_response(409, "no instance refresh in progress");
      return ok_json({{"autoscaling_group", g.name()}, {"instance_refresh", "Cancelled"}});
    }
    return admin::error_response(405, "use POST to start a refresh, DELETE to cancel it");
  }
  return admin::error_response(404, "no such endpoint: " + method + " " + request.path);
}

}  // namespace ballast::control
