#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "scale/provider.h"
#include "scale/scaling_group.h"
#include "scale/scaling_policies.h"

namespace ballast::scale::testing {

// A provider whose calls wait until the test answers them.
class FakeProvider final : public Provider {
 public:
  struct PendingLaunch {
    LaunchRequest request;
    LaunchFn done;
  };
  void launch(const LaunchRequest& request, LaunchFn done) override {
    launches.push_back({request, std::move(done)});
  }
  void terminate(const std::string& id, DoneFn done) override {
    terminations.push_back(id);
    done_fns[id] = std::move(done);
  }
  void poll(int64_t) override {}
  InstanceUsage usage(const std::string&) const override { return {}; }
  bool outlives_ballast() const override { return outlives; }
  void adopt(const std::string& id, const std::string& address, const std::string&) override {
    adopted[id] = address;
  }
  void release_all() override { released = true; }

  // Answers every launch waiting: success at 127.0.0.1:<next port>, or failure.
  void answer_launches(bool ok = true) {
    auto waiting = std::move(launches);
    launches.clear();
    for (auto& l : waiting) {
      LaunchResult r;
      r.ok = ok;
      if (ok)
        r.address = "127.0.0.1:" + std::to_string(next_port++);
      else
        r.error = "launch refused";
      l.done(r);
    }
  }
  void finish_terminations() {
    auto fns = std::move(done_fns);
    done_fns.clear();
    for (auto& [id, fn] : fns) fn(true, "");
  }
  void exit(const std::string& id) { exit_fn_(id, "process exited with status 1"); }

  std::vector<PendingLaunch> launches;
  std::vector<std::string> terminations;
  std::map<std::string, DoneFn> done_fns;
  int next_port = 9100;
  bool outlives = false;  // like the exec provider's instances
  std::map<std::string, std::string> adopted;
  bool released = false;
};

// A target group: registered targets with a health the test sets; deregistered ones stay
// (draining) until the test lets them go.
class FakeLink final : public TargetGroupLink {
 public:
  using Health = health::TargetHealth;
  void register_target(const std::string&, const std::string& address) override {
    health_[address] = Health::kInitial;
  }
  void deregister_target(const std::string&, const std::string& address) override {
    health_[address] = Health::kDraining;
  }
  std::optional<Health> health(const std::string&, const std::string& address) const override {
    auto it = health_.find(address);
    if (it == health_.end()) return std::nullopt;
    return it->second;
  }
  void set(const std::string& address, Health h) { health_[address] = h; }
  void all_healthy() {
    for (auto& [a, h] : health_) {
      if (h == Health::kInitial) h = Health::kHealthy;
    }
  }
  void finish_drains() {
    std::erase_if(health_, [](const auto& kv) { return kv.second == Health::kDraining; });
  }
  int count(Health h) const {
    int n = 0;
    for (const auto& [a, x] : health_) n += x == h;
    return n;
  }

 private:
  std::map<std::string, Health> health_;
};

class FakeMetrics final : public MetricReader {
 public:
  std::optional<double> read(const ScalingGroup&, const config::ScalingPolicyConfig& p,
                             int64_t from_s, int64_t to_s) override {
    if (to_s - from_s == 1) {
      if (auto it = newest.find(p.name); it != newest.end()) return it->second;
    }
    auto it = values.find(p.name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
  std::map<std::string, double> values;  // by policy name: over any window
  std::map<std::string, double> newest;  // by policy name: the newest second, when it differs
};

class FakeAlarms final : public AlarmView {
 public:
  std::optional<AlarmReading> alarm(const std::string& name) const override {
    auto it = readings.find(name);
    if (it == readings.end()) return std::nullopt;
    return it->second;
  }
  std::map<std::string, AlarmReading> readings;
};

}  // namespace ballast::scale::testing
