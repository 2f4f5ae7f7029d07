#include "control/autoscaler.h"

#include <unistd.h>

#include <climits>

#include "core/log.h"
#include "scale/exec_provider.h"
#include "scale/process_provider.h"

namespace ballast::control {

namespace {
using Key = metrics::TimeSeriesStore::SeriesKey;
using MetricKind = config::PolicyMetric::Kind;

std::string self_path() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "ballast";
}
}  // namespace

Autoscaler::Autoscaler(core::EventLoop& loop, TargetRegistry& registry,
                       metrics::TimeSeriesStore& store, const alarms::AlarmManager& alarms,
                       std::function<void()> changed)
    : loop_(loop),
      registry_(registry),
      store_(store),
      alarms_(alarms),
      changed_(std::move(changed)),
      ballast_path_(self_path()) {}

Autoscaler::~Autoscaler() {
  stop_all();
}

std::shared_ptr<scale::Provider> Autoscaler::make_provider(const config::LaunchConfig& launch,
                                                           const std::string& group) {
  if (launch.provider == config::LaunchConfig::Provider::kExec) {
    return std::make_shared<scale::ExecProvider>(loop_, launch, group, [this] {
      return cluster_.fencing_token ? cluster_.fencing_token() : 0;
    });
  }
  return std::make_shared<scale::ProcessProvider>(loop_, launch, ballast_path_);
}

void Autoscaler::configure(const config::Config& config, int64_t unix_ms) {
  std::map<std::string, Managed> next;
  for (const auto& gc : config.autoscaling_groups) {
    auto it = groups_.find(gc.name);
    if (it != groups_.end()) {
      Managed m = std::move(it->second);
      groups_.erase(it);
      m.group->reconfigure(gc, unix_ms);
      m.policies->reconfigure(gc);
      m.scheduled = std::make_unique<scale::ScheduledActions>(gc);
      next[gc.name] = std::move(m);
      continue;
    }
    Managed m;
    std::string name = gc.name;
    m.group = std::make_unique<scale::ScalingGroup>(
        loop_, gc, [this, name](const config::LaunchConfig& l) { return make_provider(l, name); },
        *this);
    m.policies = std::make_unique<scale::ScalingPolicies>(loop_, gc);
    m.scheduled = std::make_unique<scale::ScheduledActions>(gc);
    set_launch_gate(gc.name, *m.group);
    LOG_INFO(
        "autoscaling group \"%s\": %d instance(s) wanted (min %u, max %u) in target group \"%s\"",
        gc.name.c_str(), m.group->desired(), gc.min_size, gc.max_size, gc.target_group.c_str());
    next[gc.name] = std::move(m);
  }
  // Groups the file no longer has: their instances drain and stop the usual way, off the
  // configuration (a group of the same name in a later reload starts afresh).
  for (auto& [name, m] : groups_) {
    LOG_INFO("autoscaling group \"%s\" removed; draining and terminating its instances",
             name.c_str());
    m.group->retire(unix_ms);
    retiring_.push_back(std::move(m.group));
  }
  groups_ = std::move(next);
}

void Autoscaler::tick(int64_t now_ms, int64_t unix_ms) {
  for (auto& [name, m] : groups_) {
    m.policies->poll(now_ms);
    m.group->tick(now_ms, unix_ms);
  }
  for (auto& g : retiring_) g->tick(now_ms, unix_ms);
  std::erase_if(retiring_, [](const auto& g) { return g->done(); });
}

void Autoscaler::sample(int64_t second, const metrics::Totals& totals, int64_t now_ms) {
  int64_t unix_ms = (second + 1) * 1000;
  for (auto& [name, m] : groups_) {
    record_series(*m.group, second, totals, now_ms);
    m.scheduled->run(*m.group, unix_ms);
    m.policies->evaluate(*m.group, *this, *this, now_ms, unix_ms);
  }
}

void Autoscaler::stop_all() {
  for (auto& [name, m] : groups_) m.group->stop_all();
  groups_.clear();
  for (auto& g : retiring_) g->stop_all();
  retiring_.clear();
}

void Autoscaler::set_cluster_link(ClusterLink link) {
  cluster_ = std::move(link);
  for (auto& [name, m] : groups_) set_launch_gate(name, *m.group);
}

void Autoscaler::set_launch_gate(const std::string& name, scale::ScalingGroup& group) {
  if (!cluster_.recorded) {
    group.set_launch_gate({});
    return;
  }
  // set_cluster_link() sets every gate again: cluster_.recorded is there while this one is.
  group.set_launch_gate(
      [this, name](const std::string& id) { return cluster_.recorded(name, id); });
}

nlohmann::json Autoscaler::state_of(const std::string& name, int64_t now_ms,
                                    int64_t unix_ms) const {
  auto it = groups_.find(name);
  if (it == groups_.end()) return nullptr;
  const scale::ScalingGroup& g = *it->second.group;
  nlohmann::json instances = nlohmann::json::array();
  for (const scale::InstanceRecord& r : g.records()) {
    instances.push_back({{"id", r.id},
                         {"zone", r.zone},
                         {"address", r.address},
                         {"provider_id", r.provider_id},
                         {"intent", scale::to_string(r.intent)},
                         {"launched_unix_ms", r.launch_unix_ms}});
  }
  nlohmann::json cooldowns = nlohmann::json::object();
  for (const auto& [policy, started] : it->second.policies->cooldowns(now_ms, unix_ms))
    cooldowns[policy] = started;
  return {
      {"desired", g.desired()}, {"instances", instances}, {"cooldowns_started_unix_ms", cooldowns}};
}

std::vector<std::string> Autoscaler::group_names() const {
  std::vector<std::string> out;
  for (const auto& [name, m] : groups_) out.push_back(name);
  return out;
}

namespace {
// A predecessor's instances as its state lists them; entries that make no sense are skipped.
std::vector<scale::InstanceRecord> records_in(const nlohmann::json& state) {
  std::vector<scale::InstanceRecord> out;
  if (!state.contains("instances") || !state["instances"].is_array()) return out;
  for (const auto& i : state["instances"]) {
    if (!i.is_object() || !i.contains("id") || !i["id"].is_string()) continue;
    auto text = [&](const char* field) {
      return i.contains(field) && i[field].is_string() ? i[field].get<std::string>() : "";
    };
    std::optional<scale::Intent> intent = scale::parse_intent(text("intent"));
    if (!intent) continue;  // written by a version that kept no intent: not adoptable
    scale::InstanceRecord r;
    r.id = text("id");
    r.zone = text("zone");
    r.address = text("address");
    r.provider_id = text("provider_id");
    r.intent = *intent;
    if (i.contains("launched_unix_ms") && i["launched_unix_ms"].is_number_integer())
      r.launch_unix_ms = i["launched_unix_ms"].get<int64_t>();
    out.push_back(std::move(r));
  }
  return out;
}
}  // namespace

std::vector<Autoscaler::Target> Autoscaler::take_over(const std::string& group,
                                                      const nlohmann::json& state,
                                                      const std::string& cause, int64_t now_ms,
                                                      int64_t unix_ms) {
  Managed* m = find(group);
  if (m == nullptr || !state.is_object()) return {};
  if (state.contains("desired") && state["desired"].is_number_integer())
    m->group->set_desired(state["desired"].get<int>(), cause + ": its desired capacity continues");
  std::map<std::string, int64_t> cooldowns;
  if (state.contains("cooldowns_started_unix_ms") &&
      state["cooldowns_started_unix_ms"].is_object()) {
    for (const auto& [policy, started] : state["cooldowns_started_unix_ms"].items()) {
      if (started.is_number_integer()) cooldowns[policy] = started.get<int64_t>();
    }
  }
  m->policies->take_over(cooldowns, m->group->desired(), now_ms, unix_ms);
  std::vector<Target> adopted;
  if (!m->group->instances_outlive_ballast()) return adopted;
  std::vector<scale::InstanceRecord> records = records_in(state);
  m->group->adopt(records, now_ms, unix_ms);
  for (const auto& r : records) {
    if (!r.address.empty() && r.intent != scale::Intent::kTerminate)
      adopted.push_back({m->group->config().target_group, r.address});
  }
  return adopted;
}

void Autoscaler::step_down(const std::string& cause, int64_t unix_ms) {
  for (auto& [name, m] : groups_) {
    m.group->hand_over(cause, unix_ms);
    retiring_.push_back(std::move(m.group));
  }
  groups_.clear();
}

void Autoscaler::leave_to_successor(int64_t unix_ms) {
  for (auto& [name, m] : groups_) {
    if (m.group->instances_outlive_ballast())
      m.group->hand_over("this node stopped; the next leader adopts its instances", unix_ms);
  }
  stop_all();
}

Autoscaler::Managed* Autoscaler::find(const std::string& name) {
  auto it = groups_.find(name);
  return it == groups_.end() ? nullptr : &it->second;
}

// The group's own series, as CloudWatch's Auto Scaling group metrics plus the per-target
// figures its policies track (instances counted: in service and warmed up).
void Autoscaler::record_series(const scale::ScalingGroup& g, int64_t second,
                               const metrics::Totals& totals, int64_t now_ms) {
  using K = metrics::TimeSeriesStore::Kind;
  auto key = [&](const char* metric) { return Key{metric, {{"autoscaling_group", g.name()}}}; };
  int pending =
      g.count(scale::InstanceState::kPending) + g.count(scale::InstanceState::kPendingWait);
  int terminating =
      g.count(scale::InstanceState::kTerminating) + g.count(scale::InstanceState::kTerminatingWait);
  store_.record(key("GroupDesiredCapacity"), K::kGauge, second, g.desired());
  store_.record(key("GroupInServiceInstances"), K::kGauge, second,
                g.count(scale::InstanceState::kInService));
  store_.record(key("GroupPendingInstances"), K::kGauge, second, pending);
  store_.record(key("GroupTerminatingInstances"), K::kGauge, second, terminating);
  store_.record(key("GroupMinSize"), K::kGauge, second, g.min_size());
  store_.record(key("GroupMaxSize"), K::kGauge, second, g.max_size());
  auto counted = g.counted(now_ms);
  if (counted.empty()) return;
  double cpu = 0, cpu_n = 0, in_flight = 0, requests = 0;
  // Baselines of instances no longer counted go (terminated ones would pile up).
  requests_.forget_if([&](const std::pair<std::string, std::string>& target) {
    if (target.first != g.name()) return false;
    for (const scale::Instance* i : counted) {
      if (i->address == target.second) return false;
    }
    return true;
  });
  for (const scale::Instance* i : counted) {
    scale::InstanceUsage u = i->provider->usage(i->id);
    if (u.cpu_percent) {
      cpu += *u.cpu_percent;
      cpu_n += 1;
    }
    if (cluster_.peer_traffic) {  // a cluster's leader: the other nodes' share too
      ClusterTraffic::Share peers = cluster_.peer_traffic(i->target_group, i->address);
      requests += peers.requests;
      in_flight += peers.in_flight;
    }
    auto t = totals.targets.find({i->target_group, i->address});
    if (t == totals.targets.end()) continue;
    in_flight += static_cast<double>(t->second.in_flight);
    requests += requests_.delta({g.name(), i->address}, static_cast<double>(t->second.requests));
  }
  double n = static_cast<double>(counted.size());
  if (cpu_n > 0) store_.record(key("CPUUtilization"), K::kGauge, second, cpu / cpu_n);
  store_.record(key("ActiveConnectionsPerTarget"), K::kGauge, second, in_flight / n);
  store_.record(key("RequestCountPerTarget"), K::kGauge, second, requests / n);
}

void Autoscaler::write_prometheus(metrics::PrometheusWriter& w) const {
  using Type = metrics::PrometheusWriter::Type;
  auto sizes = [&](const char* name, const char* help, auto value) {
    w.family(name, Type::kGauge, help);
    for (const auto& [group, m] : groups_) {
      w.sample({{"autoscaling_group", group}}, static_cast<double>(value(*m.group)));
    }
  };
  sizes("ballast_autoscaling_group_desired_capacity", "The group's desired capacity.",
        [](const scale::ScalingGroup& g) { return g.desired(); });
  sizes("ballast_autoscaling_group_min_size", "The group's minimum size.",
        [](const scale::ScalingGroup& g) { return g.min_size(); });
  sizes("ballast_autoscaling_group_max_size", "The group's maximum size.",
        [](const scale::ScalingGroup& g) { return g.max_size(); });
  w.family("ballast_autoscaling_group_instances", Type::kGauge,
           "Instances by lifecycle state (the last terminated ones included).");
  for (const auto& [group, m] : groups_) {
    for (auto s : {scale::InstanceState::kPending, scale::InstanceState::kPendingWait,
                   scale::InstanceState::kInService, scale::InstanceState::kTerminating,
                   scale::InstanceState::kTerminatingWait}) {
      w.sample({{"autoscaling_group", group}, {"state", scale::to_string(s)}},
               static_cast<double>(m.group->count(s)));
    }
  }
  sizes("ballast_autoscaling_group_launch_failing", "1 while launches fail and back off.",
        [](const scale::ScalingGroup& g) { return g.launch_problem().empty() ? 0 : 1; });
}

void Autoscaler::register_target(const std::string& group, const std::string& address) {
  if (cluster_.join) return cluster_.join(group, address, true);
  auto outcome = registry_.register_target(group, address, 1, "autoscaling");
  if (!outcome.ok()) {
    LOG_WARN("autoscaling: registering %s in \"%s\": %s", address.c_str(), group.c_str(),
             outcome.message.c_str());
  }
  changed_();
}

void Autoscaler::deregister_target(const std::string& group, const std::string& address) {
  if (cluster_.join) return cluster_.join(group, address, false);
  registry_.deregister_target(group, address, loop_.now_ms());
  changed_();
}

std::optional<health::TargetHealth> Autoscaler::health(const std::string& group,
                                                       const std::string& address) const {
  const GroupRecord* g = registry_.find_group(group);
  if (g == nullptr) return std::nullopt;
  for (const auto& t : g->targets) {
    // Its checks' word, or draining: an instance's group that no rule uses yet still
    // brings its instances into service.
    if (t.address_text != address) continue;
    if (t.draining) return health::TargetHealth::kDraining;
    if (t.health == health::TargetHealth::kUnhealthy && cluster_.most_see_failing &&
        !cluster_.most_see_failing(group, address)) {
      return health::TargetHealth::kHealthy;  // the other nodes reach it: this one's view
    }
    return t.health;
  }
  return std::nullopt;
}

std::optional<double> Autoscaler::read(const scale::ScalingGroup& group,
                                       const config::ScalingPolicyConfig& policy, int64_t from_s,
                                       int64_t to_s) {
  auto own = [&](const char* metric) {
    return store_.over(Key{metric, {{"autoscaling_group", group.name()}}}, metrics::Statistic{},
                       from_s, to_s);
  };
  // Series every node records: the cluster's. A peer samples a second within 100 ms of its
  // end and the leader asks once a second, after the policies: the newest second whose
  // figures are surely all in is two behind.
  const metrics::TimeSeriesStore& shared = cluster_.series ? *cluster_.series : store_;
  int64_t lag = cluster_.series ? 2 : 0;
  switch (policy.metric.kind) {
    case MetricKind::kCpuUtilization:
      return own("CPUUtilization");
    case MetricKind::kRequestCountPerTarget:
      return own("RequestCountPerTarget");
    case MetricKind::kActiveConnectionsPerTarget:
      return own("ActiveConnectionsPerTarget");
    case MetricKind::kLatencyP95:
    case MetricKind::kLatencyP99: {
      auto stat =
          metrics::Statistic::parse(policy.metric.kind == MetricKind::kLatencyP95 ? "p95" : "p99");
      return shared.over(Key{"TargetResponseTime", {{"target_group", group.config().target_group}}},
                         *stat, from_s - lag, to_s - lag);
    }
    case MetricKind::kCustom: {
      auto stat = metrics::Statistic::parse(policy.metric.statistic);
      if (!stat) return std::nullopt;
      return shared.over(Key{policy.metric.metric, policy.metric.dimensions}, *stat, from_s - lag,
                         to_s - lag);
    }
    default:
      return std::nullopt;  // external metrics are polled by the policies themselves
  }
}

std::optional<scale::AlarmReading> Autoscaler::alarm(const std::string& name) const {
  const alarms::AlarmStatus* a = alarms_.find(name);
  if (a == nullptr) return std::nullopt;
  scale::AlarmReading r;
  r.in_alarm = a->state == alarms::AlarmState::kAlarm;
  // Metric alarms: each evaluation is a new period; composites change on transitions.
  r.evaluated = a->config.rule.empty() ? a->last_period : a->state_since;
  r.value = a->last_value;
  r.threshold = a->config.threshold;
  return r;
}

}  // namespace ballast::control
