#pragma once
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "core/thread_annotations.h"
#include "metrics/proxy_stats.h"

namespace ballast::metrics {

// Where workers' stats live. A worker asks for its block when it creates a listener,
// group or target (never per request), keeps it, and counts into it without locks; the
// control thread reads every block each second. A block is found again by the same
// names, so counts continue across reloads and membership changes; one no owner holds
// any more is dropped at the next collect_unused().
class MetricsRegistry {
 public:
  std::shared_ptr<ListenerStats> listener(const std::string& name, unsigned worker);
  std::shared_ptr<GroupStats> group(const std::string& name, unsigned worker);
  std::shared_ptr<TargetStats> target(const std::string& group, const std::string& address,
                                      unsigned worker);
  void collect_unused();

  // Visitors, called under the lock with (names..., block); keep them short.
  template <typename F>
  void for_each_listener(F f) const {
    core::MutexLock lock(mu_);
    for (const auto& [key, block] : listeners_) f(std::get<0>(key), *block);
  }
  template <typename F>
  void for_each_group(F f) const {
    core::MutexLock lock(mu_);
    for (const auto& [key, block] : groups_) f(std::get<0>(key), *block);
  }
  template <typename F>
  void for_each_target(F f) const {
    core::MutexLock lock(mu_);
    for (const auto& [key, block] : targets_) f(std::get<0>(key), std::get<1>(key), *block);
  }

 private:
  // Workers add blocks while the control thread reads them.
  mutable core::Mutex mu_;
  std::map<std::tuple<std::string, unsigned>, std::shared_ptr<ListenerStats>> listeners_
      GUARDED_BY(mu_);
  std::map<std::tuple<std::string, unsigned>, std::shared_ptr<GroupStats>> groups_ GUARDED_BY(mu_);
  std::map<std::tuple<std::string, std::string, unsigned>, std::shared_ptr<TargetStats>> targets_
      GUARDED_BY(mu_);
};

}  // namespace ballast::metrics
