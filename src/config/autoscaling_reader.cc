#include "config/autoscaling_reader.h"

#include <cmath>

#include "config/yaml_reader.h"
#include "core/cron.h"
#include "core/time_zone.h"
#include "http/url.h"
#include "metrics/time_series.h"

namespace ballast::config {

namespace {

struct MetricName {
  PolicyMetric::Kind kind;
  const char* name;
};
constexpr MetricName kBuiltinMetrics[] = {
    {PolicyMetric::Kind::kCpuUtilization, "cpu_utilization"},
    {PolicyMetric::Kind::kRequestCountPerTarget, "request_count_per_target"},
    {PolicyMetric::Kind::kActiveConnectionsPerTarget, "active_connections_per_target"},
    {PolicyMetric::Kind::kLatencyP95, "latency_p95"},
    {PolicyMetric::Kind::kLatencyP99, "latency_p99"},
};

void error_at(MapReader& r, std::string_view key, ErrorList& errors, const std::string& message) {
  errors.add(location_of(r.node(key)), r.child_path(key), message);
}

// "9100-9199"
void read_ports(MapReader& r, LaunchConfig& l, ErrorList& errors) {
  auto text = r.string("ports", l.provider == LaunchConfig::Provider::kProcess);
  if (!text) return;
  unsigned long a = 0, b = 0;
  char extra = 0;
  int n = sscanf(text->c_str(), "%lu-%lu%c", &a, &b, &extra);
  if (n == 1) b = a;
  if ((n != 1 && n != 2) || a < 1 || b > 65535 || a > b) {
    error_at(r, "ports", errors,
             "expected a port range such as 9100-9199 (first-last, within 1-65535)");
    return;
  }
  l.port_first = static_cast<uint16_t>(a);
  l.port_last = static_cast<uint16_t>(b);
}

void read_environment(MapReader& r, LaunchConfig& l, ErrorList& errors) {
  YAML::Node env = r.node("environment");
  if (!env.IsDefined() || env.IsNull()) return;
  if (!env.IsMap()) {
    error_at(r, "environment", errors, "expected a map of names to values, such as { MODE: demo }");
    return;
  }
  for (const auto& kv : env) {
    l.environment.emplace_back(kv.first.as<std::string>(""), kv.second.as<std::string>(""));
  }
}

LaunchConfig read_launch(MapReader& g, ErrorList& errors) {
  LaunchConfig l;
  YAML::Node node = g.node("launch");
  MapReader r(node, g.child_path("launch"), errors);
  l.location = r.location();
  if (node.IsDefined()) {
    YAML::Emitter out;
    out << node;
    l.fingerprint = out.c_str();
  }
  if (auto v = r.string("provider")) {
    if (*v == "exec") {
      l.provider = LaunchConfig::Provider::kExec;
    } else if (*v != "process") {
      error_at(r, "provider", errors, "unknown provider \"" + *v + "\"; expected process or exec");
    }
  }
  bool process = l.provider == LaunchConfig::Provider::kProcess;
  if (process) {
    if (auto v = r.string("command", true)) l.command = *v;
    if (auto v = r.string("host")) l.host = *v;
    read_ports(r, l, errors);
    read_environment(r, l, errors);
    if (auto v = r.string("working_directory")) l.working_directory = *v;
    if (auto v = r.string("log_directory")) l.log_directory = *v;
    if (auto v = r.duration_ms("stop_timeout", 0, 3600 * 1000)) l.stop_timeout_ms = *v;
    std::string ignored;
    if (!l.host.empty() && !core::SocketAddress::parse(l.host + ":1", &ignored, false)) {
      error_at(r, "host", errors, "\"" + l.host + "\" is not an IP address");
    }
  } else {
    if (auto v = r.string("launch", true)) l.launch_command = *v;
    if (auto v = r.string("terminate", true)) l.terminate_command = *v;
    if (auto v = r.string("describe")) l.describe_command = *v;
    read_environment(r, l, errors);
    if (auto v = r.string("working_directory")) l.working_directory = *v;
    if (auto v = r.string("log_directory")) l.log_directory = *v;
    if (auto v = r.duration_ms("timeout", 1000, 3600 * 1000)) l.command_timeout_ms = *v;
    if (auto v = r.duration_ms("describe_interval", 1000, 3600 * 1000)) l.describe_interval_ms = *v;
  }
  r.finish();
  return l;
}

void read_custom_metric(MapReader& m, PolicyMetric& pm, ErrorList& errors) {
  int sources = m.has("name") + m.has("command") + m.has("url") + m.has("prometheus");
  if (sources != 1) {
    errors.add(m.location(), m.path(),
               "a metric is a name (cpu_utilization, request_count_per_target, "
               "active_connections_per_target, latency_p95, latency_p99) or a map with one of "
               "name (a series of the metrics store), command, url or prometheus");
  }
  if (m.has("name")) {
    pm.kind = PolicyMetric::Kind::kCustom;
    if (auto v = m.string("name")) pm.metric = *v;
    YAML::Node d = m.node("dimensions");
    if (d.IsDefined() && !d.IsMap()) {
      errors.add(location_of(d), m.child_path("dimensions"),
                 "expected a map, such as { target_group: app }");
    } else if (d.IsDefined()) {
      for (const auto& kv : d) {
        pm.dimensions[kv.first.as<std::string>("")] = kv.second.as<std::string>("");
      }
    }
    if (auto v = m.string("statistic")) {
      pm.statistic = *v;
      if (!metrics::Statistic::parse(*v)) {
        error_at(m, "statistic", errors,
                 "unknown statistic \"" + *v +
                     "\"; expected Average, Sum, Minimum, Maximum, SampleCount or pNN");
      }
    }
  } else if (m.has("command")) {
    pm.kind = PolicyMetric::Kind::kCommand;
    if (auto v = m.string("command")) pm.command = *v;
  } else if (m.has("url")) {
    pm.kind = PolicyMetric::Kind::kHttpJson;
    if (auto v = m.string("url")) pm.url = *v;
    if (auto v = m.string("json_path")) {
      pm.json_path = *v;
      if (!pm.json_path.empty() && pm.json_path[0] != '/') {
        error_at(m, "json_path", errors, "a JSON pointer starts with /, such as /queue/depth");
      }
    }
  } else if (m.has("prometheus")) {
    pm.kind = PolicyMetric::Kind::kPrometheus;
    if (auto v = m.string("prometheus")) pm.url = *v;
    if (auto v = m.string("query", true)) pm.query = *v;
  }
  if (!pm.url.empty()) {
    http::HttpUrl parsed;
    std::string error;
    const char* key = pm.kind == PolicyMetric::Kind::kPrometheus ? "prometheus" : "url";
    if (!http::parse_http_url(pm.url, &parsed, &error)) error_at(m, key, errors, error);
  }
  if (auto v = m.duration_ms("poll_interval", 500, 3600 * 1000)) pm.poll_interval_ms = *v;
  if (auto v = m.boolean("per_instance")) pm.per_instance = *v;
}

PolicyMetric read_policy_metric(MapReader& p, ErrorList& errors) {
  PolicyMetric pm;
  YAML::Node node = p.node("metric");
  pm.location = location_of(node);
  if (!node.IsDefined()) {
    errors.add(p.location(), p.child_path("metric"), "a target_tracking policy needs a metric");
    return pm;
  }
  if (node.IsScalar()) {
    for (const auto& m : kBuiltinMetrics) {
      if (node.Scalar() == m.name) {
        pm.kind = m.kind;
        return pm;
      }
    }
    errors.add(pm.location, p.child_path("metric"),
               "unknown metric \"" + node.Scalar() +
                   "\"; expected cpu_utilization, request_count_per_target, "
                   "active_connections_per_target, latency_p95, latency_p99, or a map for a "
                   "custom or external metric");
    return pm;
  }
  MapReader m(node, p.child_path("metric"), errors);
  read_custom_metric(m, pm, errors);
  m.finish();
  return pm;
}

bool parse_adjustment_type(const std::string& v, ScalingPolicyConfig::Adjustment* out) {
  using A = ScalingPolicyConfig::Adjustment;
  if (v == "change_in_capacity" || v == "ChangeInCapacity") {
    *out = A::kChangeInCapacity;
  } else if (v == "exact_capacity" || v == "ExactCapacity") {
    *out = A::kExactCapacity;
  } else if (v == "percent_change_in_capacity" || v == "PercentChangeInCapacity") {
    *out = A::kPercentChangeInCapacity;
  } else {
    return false;
  }
  return true;
}

void read_steps(MapReader& p, ScalingPolicyConfig& pc, ErrorList& errors) {
  for_each_item(p, "steps", errors, [&](const YAML::Node& item, const std::string& path) {
    MapReader s(item, path, errors);
    StepConfig step;
    if (s.has("lower")) step.lower = s.number("lower");
    if (s.has("upper")) step.upper = s.number("upper");
    if (auto v = s.number("adjustment")) {
      step.adjustment = *v;
    } else if (s.is_map() && !s.has("adjustment")) {
      errors.add(s.location(), s.child_path("adjustment"), "a step needs an adjustment");
    }
    if (step.lower && step.upper && *step.lower >= *step.upper) {
      errors.add(s.location(), path, "a step's lower bound must be below its upper bound");
    }
    s.finish();
    pc.steps.push_back(step);
  });
  if (pc.steps.empty()) {
    errors.add(p.location(), p.child_path("steps"),
               "a step_scaling policy needs steps, such as [{ lower: 0, adjustment: 1 }]");
  }
  // AWS: steps may not overlap (sorted by lower bound, each starts at or after the last
  // one's end).
  for (size_t a = 0; a < pc.steps.size(); ++a) {
    for (size_t b = 0; b < pc.steps.size(); ++b) {
      if (a == b) continue;
      double alo = pc.steps[a].lower.value_or(-INFINITY),
             ahi = pc.steps[a].upper.value_or(INFINITY);
      double blo = pc.steps[b].lower.value_or(-INFINITY),
             bhi = pc.steps[b].upper.value_or(INFINITY);
      if (a < b && alo < bhi && blo < ahi) {
        errors.add(p.location(), p.child_path("steps"),
                   "steps[" + std::to_string(a) + "] and steps[" + std::to_string(b) + "] overlap");
      }
    }
  }
}

ScalingPolicyConfig read_policy(const YAML::Node& node, const std::string& path, ErrorList& errors,
                                size_t index) {
  ScalingPolicyConfig pc;
  MapReader p(node, path, errors);
  pc.location = p.location();
  pc.name = "policy-" + std::to_string(index + 1);
  if (auto v = p.string("name")) pc.name = *v;
  using T = ScalingPolicyConfig::Type;
  if (auto v = p.string("type", true)) {
    if (*v == "target_tracking") {
      pc.type = T::kTargetTracking;
    } else if (*v == "step_scaling") {
      pc.type = T::kStepScaling;
    } else if (*v == "simple_scaling") {
      pc.type = T::kSimpleScaling;
    } else {
      error_at(p, "type", errors,
               "unknown policy type \"" + *v +
                   "\"; expected target_tracking, step_scaling or simple_scaling (scheduled "
                   "actions go under scheduled_actions)");
    }
  }
  if (pc.type == T::kTargetTracking) {
    pc.metric = read_policy_metric(p, errors);
    if (auto v = p.number("target")) {
      pc.target = *v;
      if (*v <= 0) error_at(p, "target", errors, "a target is a positive number");
    } else if (p.is_map() && !p.has("target")) {
      errors.add(p.location(), p.child_path("target"), "a target_tracking policy needs a target");
    }
    if (auto v = p.number("tolerance")) {
      pc.tolerance = *v;
      if (*v < 0 || *v >= 1) error_at(p, "tolerance", errors, "tolerance is a fraction in [0, 1)");
    }
    if (auto v = p.duration_ms("window", 1000, 3600 * 1000)) pc.window_ms = *v;
    if (auto v = p.boolean("disable_scale_in")) pc.disable_scale_in = *v;
    p.finish();
    return pc;
  }
  if (auto v = p.string("alarm", true)) pc.alarm = *v;
  if (auto v = p.string("adjustment_type")) {
    if (!parse_adjustment_type(*v, &pc.adjustment_type)) {
      error_at(p, "adjustment_type", errors,
               "unknown adjustment_type \"" + *v +
                   "\"; expected change_in_capacity, exact_capacity or "
                   "percent_change_in_capacity");
    }
  }
  if (auto v = p.integer("min_adjustment_magnitude", 1, 100000))
    pc.min_adjustment_magnitude = static_cast<uint32_t>(*v);
  if (pc.type == T::kStepScaling) {
    read_steps(p, pc, errors);
  } else {
    if (auto v = p.number("adjustment")) {
      pc.adjustment = *v;
    } else if (p.is_map() && !p.has("adjustment")) {
      errors.add(p.location(), p.child_path("adjustment"),
                 "a simple_scaling policy needs an adjustment");
    }
    if (auto v = p.duration_ms("cooldown", 0, 86400 * 1000)) pc.cooldown_ms = *v;
  }
  p.finish();
  return pc;
}

std::optional<uint32_t> read_size(MapReader& r, std::string_view key) {
  if (auto v = r.integer(key, 0, 10000)) return static_cast<uint32_t>(*v);
  return std::nullopt;
}

ScheduledActionConfig read_scheduled(const YAML::Node& node, const std::string& path,
                                     ErrorList& errors) {
  ScheduledActionConfig s;
  MapReader r(node, path, errors);
  s.location = r.location();
  if (auto v = r.string("name", true)) s.name = *v;
  if (auto v = r.string("cron", true)) {
    s.cron = *v;
    std::string error;
    if (auto schedule = core::CronSchedule::parse(*v, &error)) {
      s.schedule = std::make_shared<const core::CronSchedule>(*schedule);
    } else {
      error_at(r, "cron", errors, error);
    }
  }
  if (auto v = r.string("time_zone")) s.time_zone = *v;
  std::string error;
  if (auto zone = core::TimeZone::load(s.time_zone, &error)) {
    s.zone = std::make_shared<const core::TimeZone>(std::move(*zone));
  } else {
    error_at(r, "time_zone", errors, error);
  }
  s.min_size = read_size(r, "min_size");
  s.max_size = read_size(r, "max_size");
  s.desired_capacity = read_size(r, "desired_capacity");
  if (r.is_map() && !s.min_size && !s.max_size && !s.desired_capacity) {
    errors.add(r.location(), path,
               "a scheduled action sets at least one of min_size, max_size, desired_capacity");
  }
  r.finish();
  return s;
}

LifecycleHookConfig read_hook(const YAML::Node& node, const std::string& path, ErrorList& errors) {
  LifecycleHookConfig h;
  MapReader r(node, path, errors);
  h.location = r.location();
  if (auto v = r.string("name", true)) h.name = *v;
  if (auto v = r.string("transition", true)) {
    if (*v == "launching") {
      h.transition = LifecycleHookConfig::Transition::kLaunching;
    } else if (*v == "terminating") {
      h.transition = LifecycleHookConfig::Transition::kTerminating;
    } else {
      error_at(r, "transition", errors,
               "unknown transition \"" + *v + "\"; expected launching or terminating");
    }
  }
  if (auto v = r.string("command", true)) h.command = *v;
  if (auto v = r.duration_ms("timeout", 1000, 7200 * 1000)) h.timeout_ms = *v;
  if (auto v = r.string("default_result")) {
    if (*v == "continue" || *v == "CONTINUE") {
      h.default_continue = true;
    } else if (*v == "abandon" || *v == "ABANDON") {
      h.default_continue = false;
    } else {
      error_at(r, "default_result", errors,
               "unknown default_result \"" + *v + "\"; expected continue or abandon");
    }
  }
  r.finish();
  return h;
}

void read_termination_policy(MapReader& r, AutoScalingGroupConfig& g, ErrorList& errors) {
  auto v = r.string("termination_policy");
  if (!v) return;
  using T = AutoScalingGroupConfig::Termination;
  if (*v == "oldest_instance" || *v == "OldestInstance") {
    g.termination_policy = T::kOldestInstance;
  } else if (*v == "newest_instance" || *v == "NewestInstance") {
    g.termination_policy = T::kNewestInstance;
  } else if (*v == "oldest_launch_template" || *v == "OldestLaunchTemplate") {
    g.termination_policy = T::kOldestLaunchTemplate;
  } else {
    error_at(r, "termination_policy", errors,
             "unknown termination_policy \"" + *v +
                 "\"; expected oldest_instance, newest_instance or oldest_launch_template");
  }
}

// "3" (instances) or "50%" (of current capacity).
void read_max_step(MapReader& r, AutoScalingGroupConfig& g, ErrorList& errors) {
  auto v = r.string("max_scale_out_step");
  if (!v) return;
  unsigned long n = 0;
  char percent = 0, extra = 0;
  int got = sscanf(v->c_str(), "%lu%c%c", &n, &percent, &extra);
  if (got == 1 && n >= 1 && n <= 10000) {
    g.max_scale_out_step = static_cast<uint32_t>(n);
  } else if (got == 2 && percent == '%' && n >= 1 && n <= 1000) {
    g.max_scale_out_step_percent = static_cast<uint32_t>(n);
  } else {
    error_at(r, "max_scale_out_step", errors,
             "expected a number of instances (3) or a percent of current capacity (50%)");
  }
}

void read_zones(MapReader& r, AutoScalingGroupConfig& g, ErrorList& errors) {
  YAML::Node z = r.node("zones");
  if (!z.IsDefined()) return;
  if (!z.IsSequence() || z.size() == 0) {
    error_at(r, "zones", errors, "expected a list of zone names, such as [a, b]");
    return;
  }
  g.zones.clear();
  for (size_t i = 0; i < z.size(); ++i) {
    std::string name = z[i].as<std::string>("");
    for (const auto& other : g.zones) {
      if (other == name) {
        errors.add(location_of(z[i]), indexed(r.child_path("zones"), i),
                   "zone \"" + name + "\" is listed twice");
      }
    }
    g.zones.push_back(name);
  }
}

void read_sizes(MapReader& r, AutoScalingGroupConfig& g, ErrorList& errors) {
  if (auto v = read_size(r, "min_size")) g.min_size = *v;
  if (auto v = read_size(r, "max_size")) {
    g.max_size = *v;
  } else if (r.is_map() && !r.has("max_size")) {
    errors.add(r.location(), r.child_path("max_size"), "an autoscaling group needs a max_size");
  }
  g.desired_capacity = read_size(r, "desired_capacity");
  if (g.min_size > g.max_size) {
    error_at(r, "min_size", errors,
             "min_size (" + std::to_string(g.min_size) + ") is above max_size (" +
                 std::to_string(g.max_size) + ")");
  }
  if (g.desired_capacity &&
      (*g.desired_capacity < g.min_size || *g.desired_capacity > g.max_size)) {
    error_at(r, "desired_capacity", errors,
             "desired_capacity (" + std::to_string(*g.desired_capacity) + ") is outside min_size " +
                 std::to_string(g.min_size) + " .. max_size " + std::to_string(g.max_size));
  }
}

void read_timings(MapReader& r, AutoScalingGroupConfig& g) {
  if (auto v = r.duration_ms("health_check_grace_period", 0)) g.health_check_grace_period_ms = *v;
  if (auto v = r.duration_ms("instance_warmup", 0)) g.instance_warmup_ms = *v;
  if (auto v = r.duration_ms("default_cooldown", 0)) g.default_cooldown_ms = *v;
  if (auto v = r.duration_ms("max_instance_lifetime", 60 * 1000, int64_t{365} * 86400 * 1000))
    g.max_instance_lifetime_ms = *v;
  if (auto v = r.duration_ms("scale_in_stabilization", 0, 86400 * 1000))
    g.scale_in_stabilization_ms = *v;
}

void read_refresh_and_backoff(MapReader& r, AutoScalingGroupConfig& g, ErrorList& errors) {
  if (r.has("instance_refresh")) {
    MapReader m(r.node("instance_refresh"), r.child_path("instance_refresh"), errors);
    if (auto v = m.integer("min_healthy_percentage", 0, 100))
      g.min_healthy_percentage = static_cast<uint32_t>(*v);
    m.finish();
  } else {
    r.node("instance_refresh");
  }
  if (r.has("launch_backoff")) {
    MapReader m(r.node("launch_backoff"), r.child_path("launch_backoff"), errors);
    if (auto v = m.duration_ms("initial", 100, 3600 * 1000)) g.launch_backoff_initial_ms = *v;
    if (auto v = m.duration_ms("max", 100, 86400 * 1000)) g.launch_backoff_max_ms = *v;
    m.finish();
  } else {
    r.node("launch_backoff");
  }
}

}  // namespace

const char* policy_metric_name(PolicyMetric::Kind kind) {
  for (const auto& m : kBuiltinMetrics) {
    if (m.kind == kind) return m.name;
  }
  switch (kind) {
    case PolicyMetric::Kind::kCustom:
      return "custom";
    case PolicyMetric::Kind::kCommand:
      return "command";
    case PolicyMetric::Kind::kHttpJson:
      return "url";
    case PolicyMetric::Kind::kPrometheus:
      return "prometheus";
    default:
      return "?";
  }
}

AutoScalingGroupConfig read_autoscaling_group(const YAML::Node& node, const std::string& path,
                                              ErrorList& errors) {
  AutoScalingGroupConfig g;
  MapReader r(node, path, errors);
  g.location = r.location();
  if (auto v = r.string("name", true)) g.name = *v;
  if (auto v = r.string("target_group", true)) g.target_group = *v;
  read_sizes(r, g, errors);
  read_zones(r, g, errors);
  read_timings(r, g);
  read_termination_policy(r, g, errors);
  read_max_step(r, g, errors);
  read_refresh_and_backoff(r, g, errors);
  if (r.has("launch")) {
    g.launch = read_launch(r, errors);
  } else {
    r.node("launch");
    if (r.is_map()) {
      errors.add(r.location(), r.child_path("launch"),
                 "an autoscaling group needs a launch template, such as "
                 "{ provider: process, command: \"...\", ports: 9100-9199 }");
    }
  }
  size_t index = 0;
  for_each_item(r, "policies", errors, [&](const YAML::Node& item, const std::string& p) {
    g.policies.push_back(read_policy(item, p, errors, index++));
  });
  for_each_item(r, "scheduled_actions", errors, [&](const YAML::Node& item, const std::string& p) {
    g.scheduled.push_back(read_scheduled(item, p, errors));
  });
  for_each_item(r, "lifecycle_hooks", errors, [&](const YAML::Node& item, const std::string& p) {
    g.lifecycle_hooks.push_back(read_hook(item, p, errors));
  });
  r.finish();
  return g;
}

}  // namespace ballast::config
