#include "scale/scaling_group.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>

#include "core/clock.h"
#include "core/log.h"
#include "scale/child_process.h"

namespace ballast::scale {

namespace {
constexpr size_t kMaxActivities = 500;
constexpr size_t kKeepTerminated = 20;
}  // namespace

InstanceState state_of(Phase p) {
  switch (p) {
    case Phase::kRecording:
    case Phase::kLaunching:
    case Phase::kJoining:
      return InstanceState::kPending;
    case Phase::kLaunchHooks:
      return InstanceState::kPendingWait;
    case Phase::kInService:
      return InstanceState::kInService;
    case Phase::kLeaving:
    case Phase::kStopping:
      return InstanceState::kTerminating;
    case Phase::kTerminateHooks:
      return InstanceState::kTerminatingWait;
    case Phase::kTerminated:
      return InstanceState::kTerminated;
  }
  return InstanceState::kTerminated;
}

const char* to_string(Phase p) {
  switch (p) {
    case Phase::kRecording:
      return "recording";
    case Phase::kLaunching:
      return "launching";
    case Phase::kLaunchHooks:
      return "launch hooks";
    case Phase::kJoining:
      return "joining";
    case Phase::kInService:
      return "in service";
    case Phase::kLeaving:
      return "leaving";
    case Phase::kTerminateHooks:
      return "termination hooks";
    case Phase::kStopping:
      return "stopping";
    case Phase::kTerminated:
      return "terminated";
  }
  return "?";
}

Intent intent_of(Phase p) {
  switch (p) {
    case Phase::kRecording:
    case Phase::kLaunching:
    case Phase::kLaunchHooks:
    case Phase::kJoining:
      return Intent::kLaunch;
    case Phase::kInService:
      return Intent::kRun;
    case Phase::kLeaving:
    case Phase::kTerminateHooks:
    case Phase::kStopping:
    case Phase::kTerminated:
      return Intent::kTerminate;
  }
  return Intent::kTerminate;
}

const char* to_string(Intent i) {
  switch (i) {
    case Intent::kLaunch:
      return "launch";
    case Intent::kRun:
      return "run";
    case Intent::kTerminate:
      return "terminate";
  }
  return "?";
}

std::optional<Intent> parse_intent(std::string_view text) {
  for (Intent i : {Intent::kLaunch, Intent::kRun, Intent::kTerminate}) {
    if (text == to_string(i)) return i;
  }
  return std::nullopt;
}

const char* to_string(InstanceState s) {
  switch (s) {
    case InstanceState::kPending:
      return "Pending";
    case InstanceState::kPendingWait:
      return "Pending:Wait";
    case InstanceState::kInService:
      return "InService";
    case InstanceState::kTerminating:
      return "Terminating";
    case InstanceState::kTerminatingWait:
      return "Terminating:Wait";
    case InstanceState::kTerminated:
      return "Terminated";
  }
  return "?";
}

// The lifecycle hooks of one transition, run one after another; exit 0 is CONTINUE,
// any other status ABANDON, and a hook that cannot run or times out takes its
// default_result.
class HookRun {
 public:
  HookRun(core::EventLoop& loop, std::vector<config::LifecycleHookConfig> hooks,
          std::vector<std::pair<std::string, std::string>> env)
      : loop_(loop), hooks_(std::move(hooks)), env_(std::move(env)) {}
  ~HookRun() { retire(loop_, std::move(child_)); }

  // Starts the next hook, or finishes; done() and result() say where it stands.
  void poll(int64_t now_ms) {
    if (done_) return;
    if (child_ && now_ms >= deadline_ms_) {
      LOG_WARN("lifecycle hook \"%s\" timed out; default result %s", hooks_[next_ - 1].name.c_str(),
               hooks_[next_ - 1].default_continue ? "continue" : "abandon");
      retire(loop_, std::move(child_));
      finish_hook(hooks_[next_ - 1].default_continue);
      return;
    }
    if (child_) return;
    if (next_ >= hooks_.size()) {
      done_ = true;
      return;
    }
    const auto& h = hooks_[next_++];
    SpawnOptions options;
    options.command = h.command;
    options.environment = env_;
    options.environment.emplace_back("BALLAST_HOOK", h.name);
    std::string error;
    child_ = ChildProcess::spawn(
        loop_, options, [this](int status) { exited(status); }, &error);
    if (!child_ || !error.empty()) {
      LOG_WARN("lifecycle hook \"%s\": %s; default result %s", h.name.c_str(), error.c_str(),
               h.default_continue ? "continue" : "abandon");
      retire(loop_, std::move(child_));
      finish_hook(h.default_continue);
      return;
    }
    deadline_ms_ = now_ms + h.timeout_ms;
  }
  bool done() const { return done_; }
  bool abandoned() const { return abandoned_; }
  const std::string& detail() const { return detail_; }

 private:
  void exited(int status) {
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok) detail_ = "lifecycle hook \"" + hooks_[next_ - 1].name + "\" " + describe_exit(status);
    retire(loop_, std::move(child_));
    finish_hook(ok);
  }
  void finish_hook(bool proceed) {
    if (!proceed) {
      abandoned_ = true;
      if (detail_.empty()) detail_ = "lifecycle hook \"" + hooks_[next_ - 1].name + "\" abandoned";
      done_ = true;
    }
  }

  core::EventLoop& loop_;
  std::vector<config::LifecycleHookConfig> hooks_;
  std::vector<std::pair<std::string, std::string>> env_;
  size_t next_ = 0;
  std::unique_ptr<ChildProcess> child_;
  int64_t deadline_ms_ = 0;
  bool done_ = false;
  bool abandoned_ = false;
  std::string detail_;
};

Instance::Instance() = default;
Instance::~Instance() = default;

ScalingGroup::ScalingGroup(core::EventLoop& loop, const config::AutoScalingGroupConfig& config,
                           ProviderFactory factory, TargetGroupLink& link)
    : loop_(loop), config_(config), factory_(std::move(factory)), link_(link) {
  desired_ = static_cast<int>(config.desired_capacity.value_or(config.min_size));
  desired_cause_ = "the group was created with desired capacity " + std::to_string(desired_);
  provider_ = factory_(config_.launch);
  provider_->on_exit(
      [this](const std::string& id, const std::string& why) { instance_exited(id, why); });
  id_salt_ = std::random_device{}();
}

ScalingGroup::~ScalingGroup() {
  stop_all();
}

void ScalingGroup::stop_all() {
  stopping_ = true;
  for (auto& i : instances_) i->hook.reset();
  instances_.clear();  // each provider stops its instances as the last reference goes
  provider_.reset();
}

void ScalingGroup::retire(int64_t unix_ms) {
  for (auto& i : instances_) i->protected_from_scale_in = false;
  if (refresh_.active) cancel_refresh(unix_ms);
  config_.min_size = 0;
  set_desired(0, "the group was removed from the configuration");
}

bool ScalingGroup::done() const {
  for (const auto& i : instances_) {
    if (i->phase != Phase::kTerminated) return false;
  }
  return true;
}

std::string ScalingGroup::new_instance_id() {
  char buf[32];
  snprintf(buf, sizeof(buf), "i-%08x%04llx", id_salt_,
           static_cast<unsigned long long>(++id_counter_ & 0xffff));
  return buf;
}

void ScalingGroup::reconfigure(const config::AutoScalingGroupConfig& config, int64_t unix_ms) {
  bool template_changed = config.launch.fingerprint != config_.launch.fingerprint;
  bool moved = config.target_group != config_.target_group;
  config_ = config;
  int clamped =
      std::clamp(desired_, static_cast<int>(config_.min_size), static_cast<int>(config_.max_size));
  if (clamped != desired_) set_desired(clamped, "a reload changed the group's size limits");
  std::string error;
  if (moved && !template_changed) {
    // Each instance leaves the target group it joined; replacements join the new one.
    start_refresh("a reload moved the group to target group " + config_.target_group, unix_ms,
                  &error, /*all=*/true);
    return;
  }
  if (!template_changed) return;
  ++template_version_;
  provider_ = factory_(config_.launch);
  provider_->on_exit(
      [this](const std::string& id, const std::string& why) { instance_exited(id, why); });
  start_refresh("a reload changed the launch template", unix_ms, &error);
}

int ScalingGroup::set_desired(int desired, const std::string& cause) {
  int next =
      std::clamp(desired, static_cast<int>(config_.min_size), static_cast<int>(config_.max_size));
  if (next == desired_) return desired_;
  desired_cause_ = cause + ": desired " + std::to_string(desired_) + " → " + std::to_string(next);
  LOG_INFO("autoscaling group \"%s\": %s", name().c_str(), desired_cause_.c_str());
  desired_ = next;
  return desired_;
}

void ScalingGroup::set_sizes(std::optional<uint32_t> min, std::optional<uint32_t> max,
                             std::optional<uint32_t> desired, const std::string& cause) {
  std::string what;
  auto note = [&](const char* name, uint32_t from, uint32_t to) {
    if (from == to) return;
    what += (what.empty() ? "" : ", ") + std::string(name) + " " + std::to_string(from) + " → " +
            std::to_string(to);
  };
  if (min) note("min", config_.min_size, *min), config_.min_size = *min;
  if (max) note("max", config_.max_size, *max), config_.max_size = *max;
  if (config_.min_size > config_.max_size) config_.max_size = config_.min_size;
  if (!what.empty())
    LOG_INFO("autoscaling group \"%s\": %s: %s", name().c_str(), cause.c_str(), what.c_str());
  set_desired(desired ? static_cast<int>(*desired) : desired_, cause);
}

bool ScalingGroup::set_protected(const std::string& instance_id, bool on) {
  Instance* i = find(instance_id);
  if (i == nullptr || !i->active()) return false;
  i->protected_from_scale_in = on;
  return true;
}

Instance* ScalingGroup::find(const std::string& id) {
  for (auto& i : instances_) {
    if (i->id == id) return i.get();
  }
  return nullptr;
}

int ScalingGroup::count(InstanceState s) const {
  int n = 0;
  for (const auto& i : instances_) n += i->state() == s;
  return n;
}

std::vector<const Instance*> ScalingGroup::counted(int64_t now_ms) const {
  std::vector<const Instance*> out;
  for (const auto& i : instances_) {
    if (i->warmed(now_ms, config_.instance_warmup_ms)) out.push_back(i.get());
  }
  return out;
}

bool ScalingGroup::warming(int64_t now_ms) const {
  for (const auto& i : instances_) {
    if (i->phase < Phase::kInService) return true;
    if (i->phase == Phase::kInService && !i->warmed(now_ms, config_.instance_warmup_ms))
      return true;
  }
  return false;
}

uint64_t ScalingGroup::begin_activity(const std::string& instance_id,
                                      const std::string& description, const std::string& cause,
                                      int64_t unix_ms) {
  Activity a;
  a.id = next_activity_++;
  a.start_unix_ms = unix_ms;
  a.instance_id = instance_id;
  a.description = description;
  a.cause = cause;
  activities_.push_back(std::move(a));
  while (activities_.size() > kMaxActivities) activities_.pop_front();
  return activities_.back().id;
}

void ScalingGroup::end_activity(uint64_t id, const std::string& status, const std::string& detail,
                                int64_t unix_ms) {
  for (auto& a : activities_) {
    if (a.id != id || a.status != "InProgress") continue;
    a.status = status;
    a.detail = detail;
    a.end_unix_ms = unix_ms;
  }
}

void ScalingGroup::instance_exited(const std::string& id, const std::string& why) {
  if (stopping_) return;
  Instance* i = find(id);
  if (i != nullptr) i->exited = why;
}

void ScalingGroup::tick(int64_t now_ms, int64_t unix_ms) {
  std::set<Provider*> providers;
  for (auto& i : instances_) {
    if (i->provider) providers.insert(i->provider.get());
  }
  providers.insert(provider_.get());
  for (Provider* p : providers) p->poll(now_ms);
  for (size_t k = 0; k < instances_.size(); ++k) advance(*instances_[k], now_ms, unix_ms);
  advance_refresh(unix_ms);
  retire_replaced(now_ms, unix_ms);
  reconcile(now_ms, unix_ms);
  // Forget the oldest terminated instances (their activities stay).
  size_t terminated = static_cast<size_t>(count(InstanceState::kTerminated));
  for (auto it = instances_.begin(); it != instances_.end() && terminated > kKeepTerminated;) {
    if ((*it)->phase == Phase::kTerminated) {
      it = instances_.erase(it);
      --terminated;
    } else {
      ++it;
    }
  }
}

void ScalingGroup::advance(Instance& i, int64_t now_ms, int64_t unix_ms) {
  switch (i.phase) {
    case Phase::kRecording:
      if (!launch_recorded(i)) return;
      i.phase = Phase::kLaunching;
      ask_provider(i);
      return;
    case Phase::kLaunching:
      if (!i.launch_answered()) return;  // the provider has not answered yet
      if (launch_went_wrong(i, now_ms, unix_ms)) return;
      start_hooks_or(i, config::LifecycleHookConfig::Transition::kLaunching, now_ms, unix_ms);
      return;
    case Phase::kLaunchHooks:
      if (launch_went_wrong(i, now_ms, unix_ms)) return;
      poll_hooks(i, now_ms, unix_ms);
      return;
    case Phase::kJoining:
      if (launch_went_wrong(i, now_ms, unix_ms)) return;
      await_health(i, now_ms, unix_ms);
      return;
    case Phase::kInService:
      advance_in_service(i, now_ms, unix_ms);
      return;
    case Phase::kLeaving:
      if (!i.launch_answered()) return;  // what the launch started is stopped once known
      if (i.address.empty()) {           // the launch failed: nothing was started, nothing to stop
        transition(i, Phase::kTerminated, {}, unix_ms);
        return;
      }
      // Draining: the registry removes the target once its requests are done (or at the
      // deregistration delay).
      if (link_.health(i.target_group, i.address)) return;
      start_hooks_or(i, config::LifecycleHookConfig::Transition::kTerminating, now_ms, unix_ms);
      return;
    case Phase::kTerminateHooks:
      poll_hooks(i, now_ms, unix_ms);
      return;
    case Phase::kStopping:
      // The provider's answer came between ticks; it counts at this tick, with its clock.
      if (i.stop_answer) {
        transition(i, Phase::kTerminated, {*i.stop_answer, !i.stop_answer->empty()}, unix_ms);
      }
      return;
    case Phase::kTerminated:
      return;
  }
}

bool ScalingGroup::launch_went_wrong(Instance& i, int64_t now_ms, int64_t unix_ms) {
  if (!i.launch_error.empty()) {
    launch_failed(i, i.launch_error, now_ms, unix_ms);
    return true;
  }
  if (!i.exited.empty()) {
    launch_failed(i, "the instance ended before passing health checks: " + i.exited, now_ms,
                  unix_ms);
    return true;
  }
  return false;
}

void ScalingGroup::start_hooks_or(Instance& i, config::LifecycleHookConfig::Transition t,
                                  int64_t now_ms, int64_t unix_ms) {
  bool launching = t == config::LifecycleHookConfig::Transition::kLaunching;
  std::vector<config::LifecycleHookConfig> hooks;
  for (const auto& h : config_.lifecycle_hooks) {
    if (h.transition == t) hooks.push_back(h);
  }
  if (hooks.empty()) {
    after_hooks(i, now_ms, unix_ms);
    return;
  }
  i.hook = std::make_unique<HookRun>(
      loop_, std::move(hooks),
      std::vector<std::pair<std::string, std::string>>{
          {"BALLAST_GROUP", name()},
          {"BALLAST_INSTANCE_ID", i.id},
          {"BALLAST_ADDRESS", i.address},
          {"BALLAST_ZONE", i.zone},
          {"BALLAST_TRANSITION", launching ? "launching" : "terminating"}});
  transition(i, launching ? Phase::kLaunchHooks : Phase::kTerminateHooks, {}, unix_ms);
  poll_hooks(i, now_ms, unix_ms);
}

void ScalingGroup::poll_hooks(Instance& i, int64_t now_ms, int64_t unix_ms) {
  i.hook->poll(now_ms);
  if (!i.hook->done()) return;
  bool abandoned = i.hook->abandoned();
  std::string detail = i.hook->detail();
  i.hook.reset();
  // An abandoned launch fails; an abandoned termination still ends in a stop (AWS too).
  if (abandoned && i.phase == Phase::kLaunchHooks) {
    launch_failed(i, detail, now_ms, unix_ms);
    return;
  }
  after_hooks(i, now_ms, unix_ms);
}

void ScalingGroup::after_hooks(Instance& i, int64_t now_ms, int64_t unix_ms) {
  if (i.phase == Phase::kLaunching || i.phase == Phase::kLaunchHooks) {
    join(i, now_ms, unix_ms);
  } else {
    stop(i, unix_ms);
  }
}

void ScalingGroup::join(Instance& i, int64_t now_ms, int64_t unix_ms) {
  for (const auto& other : instances_) {
    if (other.get() != &i && other->address == i.address && other->phase != Phase::kTerminated) {
      launch_failed(
          i, "the provider gave it address " + i.address + ", which " + other->id + " already has",
          now_ms, unix_ms);
      return;
    }
  }
  transition(i, Phase::kJoining, {}, unix_ms);
  await_health(i, now_ms, unix_ms);
}

void ScalingGroup::await_health(Instance& i, int64_t now_ms, int64_t unix_ms) {
  if (link_.health(i.target_group, i.address) == health::TargetHealth::kHealthy) {
    i.in_service_ms = now_ms;
    transition(i, Phase::kInService, {}, unix_ms);
    return;
  }
  if (now_ms - i.launch_ms >= config_.health_check_grace_period_ms) {
    launch_failed(i,
                  "it did not pass the target group's health check within the grace period (" +
                      std::to_string(config_.health_check_grace_period_ms / 1000) + "s)",
                  now_ms, unix_ms);
  }
}

void ScalingGroup::stop(Instance& i, int64_t unix_ms) {
  transition(i, Phase::kStopping, {}, unix_ms);
  std::string id = i.id;
  i.provider->terminate(id, [this, id](bool ok, const std::string& error) {
    Instance* in = find(id);
    if (in == nullptr) return;
    if (!ok) {
      LOG_WARN("autoscaling group \"%s\": terminating %s: %s", name().c_str(), id.c_str(),
               error.c_str());
    }
    in->stop_answer = ok ? "" : (error.empty() ? "the provider could not stop it" : error);
  });
}

void ScalingGroup::launch_failed(Instance& i, const std::string& why, int64_t now_ms,
                                 int64_t unix_ms) {
  ++consecutive_failures_;
  int64_t backoff = config_.launch_backoff_initial_ms;
  for (int k = 1; k < consecutive_failures_ && backoff < config_.launch_backoff_max_ms; ++k)
    backoff *= 2;
  backoff = std::min(backoff, config_.launch_backoff_max_ms);
  next_launch_ms_ = now_ms + backoff;
  char buf[160];
  snprintf(buf, sizeof(buf), " (%d failure%s in a row; next launch in %.1fs)",
           consecutive_failures_, consecutive_failures_ == 1 ? "" : "s",
           static_cast<double>(backoff) / 1000.0);
  launch_problem_ = why + buf;
  LOG_WARN("autoscaling group \"%s\": instance %s failed to launch: %s", name().c_str(),
           i.id.c_str(), launch_problem_.c_str());
  desired_cause_ = "retrying a failed launch";
  zone_health_.failed(i.zone, "a launch failed: " + why, now_ms);
  transition(i, Phase::kLeaving, {why, /*failed=*/true}, unix_ms);
}

void ScalingGroup::advance_in_service(Instance& i, int64_t now_ms, int64_t unix_ms) {
  if (!i.exited.empty()) {
    desired_cause_ =
        "auto-healing: replacing " + i.id + ", which ended on its own (" + i.exited + ")";
    terminate(i, "auto-healing: the instance ended on its own (" + i.exited + "); replacing it",
              unix_ms);
    return;
  }
  std::optional<health::TargetHealth> h = link_.health(i.target_group, i.address);
  if (!h) {
    // Deregistered from outside (the API): it belongs to the group, so it goes back. (One
    // whose group moved to another target group is being replaced instead.)
    if (i.target_group == config_.target_group) link_.register_target(i.target_group, i.address);
    return;
  }
  if (h == health::TargetHealth::kUnhealthy &&
      now_ms - i.launch_ms >= config_.health_check_grace_period_ms) {
    desired_cause_ = "auto-healing: replacing " + i.id + ", which failed the health check";
    zone_health_.failed(i.zone, i.id + " failed the target group's health check", now_ms);
    terminate(i, "auto-healing: the instance failed the target group's health check; replacing it",
              unix_ms);
    return;
  }
  if (config_.max_instance_lifetime_ms > 0 && !i.replacing() &&
      now_ms - i.launch_ms >= config_.max_instance_lifetime_ms) {
    i.replace_reason = "the instance reached max_instance_lifetime (" +
                       std::to_string(config_.max_instance_lifetime_ms / 1000) + "s)";
  }
}

void ScalingGroup::transition(Instance& i, Phase next, const Change& change, int64_t unix_ms) {
  const Phase from = i.phase;
  i.phase = next;
  switch (next) {
    case Phase::kJoining:
      link_.register_target(i.target_group, i.address);
      break;
    case Phase::kInService:
      consecutive_failures_ = 0;
      launch_problem_.clear();
      zone_health_.served(i.zone);
      end_activity(i.activity, "Successful", "", unix_ms);
      LOG_INFO("autoscaling group \"%s\": instance %s (%s, zone %s) is InService after %.1fs",
               name().c_str(), i.id.c_str(), i.address.c_str(), i.zone.c_str(),
               static_cast<double>(loop_.now_ms() - i.launch_ms) / 1000.0);
      break;
    case Phase::kLeaving:
      i.hook.reset();
      // Its launch ends: failed, or cut short by a decision that also starts its termination.
      if (change.failed) {
        end_activity(i.activity, "Failed", change.cause, unix_ms);
      } else {
        if (from != Phase::kInService) {
          end_activity(i.activity, "Cancelled", "terminated before it was in service", unix_ms);
        }
        i.activity = begin_activity(i.id, "Terminating instance: " + i.id, change.cause, unix_ms);
        LOG_INFO("autoscaling group \"%s\": terminating %s: %s", name().c_str(), i.id.c_str(),
                 change.cause.c_str());
      }
      if ((from == Phase::kJoining || from == Phase::kInService) && !change.keeps_target) {
        link_.deregister_target(i.target_group, i.address);
      }
      break;
    case Phase::kTerminated:
      end_activity(i.activity, change.failed ? "Failed" : "Successful",
                   change.failed ? change.cause : "", unix_ms);
      break;
    case Phase::kRecording:
    case Phase::kLaunching:
    case Phase::kLaunchHooks:
    case Phase::kTerminateHooks:
    case Phase::kStopping:
      break;
  }
}

Instance& ScalingGroup::add_instance(const std::string& id, const std::string& zone, int64_t now_ms,
                                     int64_t unix_ms) {
  auto owned = std::make_unique<Instance>();
  Instance& i = *owned;
  i.id = id;
  i.zone = zone;
  i.target_group = config_.target_group;
  i.provider = provider_;
  i.template_version = template_version_;
  i.launch_ms = now_ms;
  i.launch_unix_ms = unix_ms;
  instances_.push_back(std::move(owned));
  return i;
}

void ScalingGroup::launch(const std::string& zone, const std::string& cause, int64_t now_ms,
                          int64_t unix_ms) {
  Instance& i = add_instance(new_instance_id(), zone, now_ms, unix_ms);
  i.activity = begin_activity(i.id, "Launching a new instance: " + i.id + " in zone " + zone, cause,
                              unix_ms);
  if (!launch_recorded(i)) return;  // kRecording: advance() asks once it is
  i.phase = Phase::kLaunching;
  ask_provider(i);
}

bool ScalingGroup::launch_recorded(const Instance& i) const {
  return !i.provider->outlives_ballast() || !launch_gate_ || launch_gate_(i.id);
}

void ScalingGroup::ask_provider(Instance& i) {
  std::string id = i.id;
  i.provider->launch(LaunchRequest{name(), id, i.zone}, [this, id](const LaunchResult& r) {
    Instance* in = find(id);
    if (in == nullptr) return;
    // The next tick handles the answer, with its clock.
    if (!r.ok || r.address.empty()) {
      in->launch_error = !r.error.empty() ? r.error
                         : r.ok           ? "the provider gave it no address"
                                          : "the provider could not launch it";
      return;
    }
    in->address = r.address;
    in->provider_id = r.provider_id;
  });
}

std::vector<InstanceRecord> ScalingGroup::records() const {
  std::vector<InstanceRecord> out;
  for (const auto& i : instances_) {
    if (i->phase == Phase::kTerminated) continue;
    out.push_back(
        {i->id, i->zone, i->address, i->provider_id, intent_of(i->phase), i->launch_unix_ms});
  }
  return out;
}

void ScalingGroup::adopt(const std::vector<InstanceRecord>& records, int64_t now_ms,
                         int64_t unix_ms) {
  if (!provider_->outlives_ballast()) return;
  for (const InstanceRecord& r : records) {
    if (find(r.id) != nullptr) continue;
    Instance& i =
        add_instance(r.id, r.zone, now_ms, r.launch_unix_ms > 0 ? r.launch_unix_ms : unix_ms);
    i.address = r.address;
    i.provider_id = r.provider_id;
    const std::string cause = "leadership taken over: the previous leader's instance";
    if (r.intent == Intent::kTerminate) {
      std::string why = cause + " was being terminated; asking again";
      if (r.address.empty()) {
        // Its launch was never answered: asking again (same key) tells what there is to stop.
        i.phase = Phase::kLaunching;
        ask_provider(i);
        transition(i, Phase::kLeaving, {why}, unix_ms);
      } else {
        provider_->adopt(r.id, r.address, r.provider_id);
        i.activity = begin_activity(i.id, "Terminating instance: " + i.id, why, unix_ms);
        stop(i, unix_ms);
      }
      continue;
    }
    i.activity =
        begin_activity(i.id, "Adopting instance: " + i.id + " in zone " + r.zone,
                       r.address.empty() ? cause + " was launching; asking again with the same key"
                                         : cause + " joins its target group again",
                       unix_ms);
    i.phase = Phase::kLaunching;
    if (r.address.empty()) {
      ask_provider(i);  // the launch goes on from here
      continue;
    }
    provider_->adopt(r.id, r.address, r.provider_id);
    join(i, now_ms, unix_ms);
  }
}

void ScalingGroup::hand_over(const std::string& cause, int64_t unix_ms) {
  if (refresh_.active) cancel_refresh(unix_ms);
  config_.min_size = 0;
  desired_ = 0;
  desired_cause_ = cause;
  if (provider_->outlives_ballast()) {
    stopping_ = true;
    for (auto& i : instances_) {
      i->hook.reset();
      if (i->provider) i->provider->release_all();  // an older template's provider too
      if (i->phase != Phase::kTerminated)
        end_activity(i->activity, "Cancelled", "handed over: " + cause, unix_ms);
    }
    provider_->release_all();
    instances_.clear();
    return;
  }
  // This node's own processes: they serve until the successor removes their targets.
  for (auto& i : instances_) {
    if (!i->active()) continue;
    i->protected_from_scale_in = false;
    transition(*i, Phase::kLeaving, {cause, false, /*keeps_target=*/true}, unix_ms);
  }
}

void ScalingGroup::terminate(Instance& i, const std::string& cause, int64_t unix_ms) {
  if (!i.active()) return;
  const bool never_asked = i.phase == Phase::kRecording;
  transition(i, Phase::kLeaving, {cause}, unix_ms);
  if (never_asked) transition(i, Phase::kTerminated, {}, unix_ms);  // nothing was started
}

}  // namespace ballast::scale
