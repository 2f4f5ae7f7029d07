// The capacity half of ScalingGroup: how many instances to launch or terminate, in which
// zone, which ones go first, and rolling replacement (refresh, lifetime, rebalancing).
#include <algorithm>
#include <cmath>
#include <map>

#include "core/log.h"
#include "scale/scaling_group.h"

namespace ballast::scale {

std::string ScalingGroup::emptiest_zone(int64_t now_ms) const {
  std::vector<std::string> zones = zone_health_.usable(config_.zones, now_ms);
  std::map<std::string, int> counts;
  for (const auto& z : zones) counts[z] = 0;
  for (const auto& i : instances_) {
    if (i->active() && !i->replacing() && counts.count(i->zone) != 0) ++counts[i->zone];
  }
  std::string best = zones.front();
  for (const auto& z : zones) {
    if (counts[z] < counts[best]) best = z;
  }
  return best;
}

// AWS's order: first the zone with the most instances (so zones stay balanced), then the
// termination policy within it; protected instances are never chosen.
std::vector<Instance*> ScalingGroup::scale_in_victims(size_t n) {
  std::vector<Instance*> out;
  std::map<std::string, int> per_zone;
  for (auto& i : instances_) {
    if (i->active() && !i->replacing()) ++per_zone[i->zone];
  }
  auto before = [&](const Instance* a, const Instance* b) {
    using T = config::AutoScalingGroupConfig::Termination;
    switch (config_.termination_policy) {
      case T::kNewestInstance:
        return a->launch_ms > b->launch_ms;
      case T::kOldestLaunchTemplate:
        if (a->template_version != b->template_version)
          return a->template_version < b->template_version;
        return a->launch_ms < b->launch_ms;
      case T::kOldestInstance:
        break;
    }
    return a->launch_ms < b->launch_ms;
  };
  while (out.size() < n) {
    Instance* pick = nullptr;
    for (auto& owned : instances_) {
      Instance* i = owned.get();
      if (!i->active() || i->replacing() || i->protected_from_scale_in) continue;
      if (std::find(out.begin(), out.end(), i) != out.end()) continue;
      if (pick == nullptr || per_zone[i->zone] > per_zone[pick->zone] ||
          (per_zone[i->zone] == per_zone[pick->zone] && before(i, pick))) {
        pick = i;
      }
    }
    if (pick == nullptr) break;  // the rest are protected
    out.push_back(pick);
    --per_zone[pick->zone];
  }
  return out;
}

void ScalingGroup::reconcile(int64_t now_ms, int64_t unix_ms) {
  if (stopping_) return;
  int active = 0;
  for (const auto& i : instances_) active += i->active() && !i->replacing();
  if (active < desired_) {
    for (int k = active; k < desired_; ++k) {
      std::string zone = emptiest_zone(now_ms);
      // While launches fail, one at a time after the back-off: a probe, not a storm. A zone
      // without failures is not held back by the others' (an impaired zone's, say).
      bool probing = consecutive_failures_ > 0 && !zone_health_.clean(zone);
      if (probing && (k > active || now_ms < next_launch_ms_)) return;
      launch(zone, desired_cause_, now_ms, unix_ms);
      if (probing) return;
    }
    return;
  }
  if (active > desired_) {
    for (Instance* i : scale_in_victims(static_cast<size_t>(active - desired_))) {
      terminate(*i, desired_cause_, unix_ms);
    }
    return;
  }
  rebalance_zones(now_ms);
}

// An instance marked for replacement leaves once the group serves its desired capacity
// without it: its replacement is in service and warmed up. Pending ones leave at once.
void ScalingGroup::retire_replaced(int64_t now_ms, int64_t unix_ms) {
  int ready = 0;
  for (const auto& i : instances_) {
    ready += !i->replacing() && i->warmed(now_ms, config_.instance_warmup_ms);
  }
  for (auto& owned : instances_) {
    Instance& i = *owned;
    if (!i.replacing() || !i.active()) continue;
    if (i.phase != Phase::kInService) {
      terminate(i, "replaced: " + i.replace_reason, unix_ms);
      continue;
    }
    if (ready >= desired_) {
      terminate(i, "replaced: " + i.replace_reason + "; its replacement is in service", unix_ms);
      if (refresh_.active && i.template_version != refresh_.template_version) ++refresh_.replaced;
    }
  }
}

// Zones more than one instance apart: launch in the emptiest first (the fullest zone's
// instance leaves once the new one serves), as AWS's AZRebalance does.
void ScalingGroup::rebalance_zones(int64_t now_ms) {
  // Impaired zones are left out: their instances stay until the zone serves again.
  std::map<std::string, int> counts;
  for (const auto& z : zone_health_.usable(config_.zones, now_ms)) counts[z] = 0;
  if (counts.size() < 2) return;
  for (const auto& i : instances_) {
    if (i->phase != Phase::kInService && i->active()) return;  // something in progress
    if (i->replacing() && i->active()) return;
    if (i->active() && counts.count(i->zone) != 0) ++counts[i->zone];
  }
  auto [lo, hi] =
      std::minmax_element(counts.begin(), counts.end(),
                          [](const auto& a, const auto& b) { return a.second < b.second; });
  if (hi->second - lo->second <= 1) return;
  std::string fullest = hi->first;
  for (auto& owned : instances_) {
    Instance& i = *owned;
    if (i.active() && i.zone == fullest && !i.protected_from_scale_in) {
      i.replace_reason = "rebalancing zones (" + fullest + " has " + std::to_string(hi->second) +
                         " instances, " + lo->first + " has " + std::to_string(lo->second) + ")";
      desired_cause_ = i.replace_reason;
      LOG_INFO("autoscaling group \"%s\": %s", name().c_str(), i.replace_reason.c_str());
      return;
    }
  }
}

bool ScalingGroup::start_refresh(const std::string& cause, int64_t unix_ms, std::string* error,
                                 bool all) {
  if (refresh_.active) {
    *error = "an instance refresh is already in progress";
    return false;
  }
  if (all) ++template_version_;  // the same template, but every instance counts as older
  refresh_ = RefreshStatus{};
  refresh_.active = true;
  refresh_.status = "InProgress";
  refresh_.start_unix_ms = unix_ms;
  refresh_.template_version = template_version_;
  refresh_.cause = cause;
  for (const auto& i : instances_) {
    refresh_.total += i->active() && i->template_version != template_version_;
  }
  refresh_.activity =
      begin_activity("",
                     "Instance refresh: replacing " + std::to_string(refresh_.total) +
                         " instance(s) in batches keeping " +
                         std::to_string(config_.min_healthy_percentage) + "% healthy",
                     cause, unix_ms);
  LOG_INFO("autoscaling group \"%s\": instance refresh started (%s): %d instance(s) to replace",
           name().c_str(), cause.c_str(), refresh_.total);
  return true;
}

bool ScalingGroup::cancel_refresh(int64_t unix_ms) {
  if (!refresh_.active) return false;
  refresh_.active = false;
  refresh_.status = "Cancelled";
  refresh_.end_unix_ms = unix_ms;
  // Instances not yet replaced stay; replacements already launched are surplus that the
  // termination policy removes.
  for (auto& i : instances_) {
    if (i->replacing() && i->template_version != template_version_) i->replace_reason.clear();
  }
  end_activity(refresh_.activity, "Cancelled", "cancelled through the API", unix_ms);
  return true;
}

// Rolling batches: mark a batch of old instances for replacement, wait until they are
// gone (their replacements in service and warmed up), then the next batch. The batch is
// what min_healthy_percentage allows AWS to take out of service at once; ballast launches
// the replacements first, so capacity never drops below desired.
void ScalingGroup::advance_refresh(int64_t unix_ms) {
  if (!refresh_.active) return;
  int in_flight = 0, old = 0;
  for (const auto& i : instances_) {
    if (i->phase == Phase::kTerminated) continue;
    bool outdated = i->template_version != refresh_.template_version;
    if (outdated && i->replacing() && i->active()) ++in_flight;
    if (outdated && !i->replacing() && i->active()) ++old;
  }
  if (old == 0 && in_flight == 0) {
    refresh_.active = false;
    refresh_.status = "Successful";
    refresh_.end_unix_ms = unix_ms;
    refresh_.replaced = refresh_.total;
    end_activity(refresh_.activity, "Successful", "", unix_ms);
    LOG_INFO("autoscaling group \"%s\": instance refresh finished", name().c_str());
    return;
  }
  if (in_flight > 0) return;
  int keep = static_cast<int>(std::ceil(desired_ * config_.min_healthy_percentage / 100.0));
  int batch = std::max(1, desired_ - keep);
  for (auto& owned : instances_) {
    Instance& i = *owned;
    if (batch == 0) break;
    if (!i.active() || i.replacing() || i.template_version == refresh_.template_version) continue;
    i.replace_reason = "instance refresh (" + refresh_.cause + ")";
    desired_cause_ = "instance refresh: replacing " + i.id + " with the new launch template";
    --batch;
  }
}

}  // namespace ballast::scale
