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
  json j = {{"instance_id", i.id},
            {"state", scale::to_string(i.state())},
            {"phase", scale::to_string(i.phase)},
            {"zone", i.zone},
            {"address", i.address},
            {"provider_id", i.provider_id},
            {"launch_template_version", i.template_version},
            {"launched_at", time_json(i.launch_unix_ms)},
            {"protected_from_scale_in", i.protected_from_scale_in},
            {"warming_up", i.phase == scale::Phase::kInService && !i.warmed(now_ms, warmup_ms)}};
  if (i.replacing()) j["replacing"] = i.replace_reason;
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
    if (detail || i->phase != scale::Phase::kTerminated)
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
  // Zones launches avoid for now (a failed launch, an instance failing its checks there).
  json impaired = json::array();
  int64_t now_ms = loop_.now_ms();
  for (const auto& z : g.impaired_zones(now_ms)) {
    impaired.push_back({{"zone", z.zone},
                        {"failures", z.failures},
                        {"seconds_left", (z.until_ms - now_ms + 999) / 1000},
                        {"why", z.why}});
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
      {"impaired_zones", impaired},
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

Autoscaler::Managed& Autoscaler::managed_named(const std::string& name) {
  Managed* m = find(name);
  if (m == nullptr) throw admin::ClientError(404, "no autoscaling group named \"" + name + "\"");
  return *m;
}

void Autoscaler::add_routes(admin::Router& r) {
  using admin::AdminRequest;
  using admin::PathParams;
  const std::string base = "/api/v1/autoscaling-groups";
  r.add("GET", base, [this](const PathParams&, const AdminRequest&) {
    return ok_json({{"autoscaling_groups", groups_json()}});
  });
  r.add("GET", base + "/{group}", [this](const PathParams& p, const AdminRequest&) {
    return ok_json(group_json(managed_named(p["group"]), true));
  });
  r.add("GET", base + "/{group}/activities", [this](const PathParams& p, const AdminRequest&) {
    scale::ScalingGroup& g = *managed_named(p["group"]).group;
    json list = json::array();
    const auto& acts = g.activities();
    for (auto it = acts.rbegin(); it != acts.rend(); ++it) list.push_back(activity_json(*it));
    return ok_json({{"autoscaling_group", g.name()}, {"activities", list}});
  });
  auto set_desired = [this](const PathParams& p, const AdminRequest& request) {
    scale::ScalingGroup& g = *managed_named(p["group"]).group;
    json body = parse_body(request);
    if (!body.contains("desired_capacity") || !body["desired_capacity"].is_number_integer())
      throw admin::ClientError(400, "the body needs \"desired_capacity\": N");
    int64_t n = body["desired_capacity"].get<int64_t>();
    if (n < g.min_size() || n > g.max_size()) {
      throw admin::ClientError(422, "desired capacity " + std::to_string(n) +
                                        " is outside min_size " + std::to_string(g.min_size()) +
                                        " .. max_size " + std::to_string(g.max_size()));
    }
    int before = g.desired();
    g.set_desired(static_cast<int>(n), "set through the API");
    return ok_json({{"autoscaling_group", g.name()},
                    {"previous_desired_capacity", before},
                    {"desired_capacity", g.desired()}});
  };
  r.add("PUT", base + "/{group}/desired", set_desired);
  r.add("POST", base + "/{group}/desired", set_desired);
  for (bool on : {true, false}) {
    r.add("POST", base + "/{group}/instances/{instance}/" + (on ? "protect" : "unprotect"),
          [this, on](const PathParams& p, const AdminRequest&) {
            scale::ScalingGroup& g = *managed_named(p["group"]).group;
            const std::string& id = p["instance"];
            if (!g.set_protected(id, on))
              throw admin::ClientError(404,
                                       "no active instance " + id + " in \"" + g.name() + "\"");
            LOG_INFO("API: instance %s %s from scale-in", id.c_str(),
                     on ? "protected" : "no longer protected");
            return ok_json({{"instance_id", id}, {"protected_from_scale_in", on}});
          });
  }
  r.add("POST", base + "/{group}/refresh", [this](const PathParams& p, const AdminRequest&) {
    scale::ScalingGroup& g = *managed_named(p["group"]).group;
    std::string error;
    if (!g.start_refresh("started through the API", core::unix_ms(), &error, /*all=*/true))
      throw admin::ClientError(409, error);
    return ok_json({{"autoscaling_group", g.name()}, {"instance_refresh", "InProgress"}}, 202);
  });
  r.add("DELETE", base + "/{group}/refresh", [this](const PathParams& p, const AdminRequest&) {
    scale::ScalingGroup& g = *managed_named(p["group"]).group;
    if (!g.cancel_refresh(core::unix_ms()))
      throw admin::ClientError(409, "no instance refresh in progress");
    return ok_json({{"autoscaling_group", g.name()}, {"instance_refresh", "Cancelled"}});
  });
}

}  // namespace ballast::control
