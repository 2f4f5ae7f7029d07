// A planned switchover (docs/databases.md#planned-switchover): hold new writer connections,
// ask Patroni, release them to the new primary, or give the old one back on a refusal.
#include <algorithm>

#include "core/clock.h"
#include "db/database_monitor.h"

namespace ballast::db {

namespace {
// Patroni's POST /switchover answers within 40 s (SwitchoverCall's bound).
constexpr int64_t kSwitchoverDeadlineMs = 45000;
}  // namespace

const char* DatabaseMonitor::to_string(Switchover::Phase phase) {
  switch (phase) {
    case Switchover::Phase::kNone:
      return "none";
    case Switchover::Phase::kHolding:
      return "holding";
    case Switchover::Phase::kRequested:
      return "requested";
    case Switchover::Phase::kDone:
      return "done";
    case Switchover::Phase::kFailed:
      return "failed";
  }
  return "none";
}

bool DatabaseMonitor::switchover_under_way() const {
  return switchover_.phase == Switchover::Phase::kHolding ||
         switchover_.phase == Switchover::Phase::kRequested;
}

std::string DatabaseMonitor::begin_switchover(const std::string& to) {
  if (switchover_under_way()) return "a switchover from " + switchover_.from + " is under way";
  auto writer = state_.writer();
  if (!writer) return "there is no confirmed primary to switch over from";
  const auto& views = state_.members();
  if (!to.empty()) {
    auto it =
        std::find_if(views.begin(), views.end(), [&](const MemberView& v) { return v.name == to; });
    if (it == views.end()) return "no member named \"" + to + "\"";
    if (static_cast<size_t>(it - views.begin()) == *writer) return to + " is the primary already";
    if (it->nofailover) return to + " is tagged nofailover: Patroni never promotes it";
    if (it->role != Role::kReplica || !it->running()) return to + " is not a running replica";
  }
  switchover_ =
      Switchover{Switchover::Phase::kHolding, views[*writer].name, to, "", core::unix_ms(), 0};
  state_.hold_writer();
  decide(loop_.now_ms());
  // Patroni's own answer comes within 40 s; a new primary is seen within a check of it.
  loop_.timers().arm(switchover_timer_, kSwitchoverDeadlineMs, loop_.now_ms());
  record("switchover", "switchover from " + switchover_.from + (to.empty() ? "" : " to " + to) +
                           " started: new writer connections wait for the new primary");
  return "";
}

void DatabaseMonitor::request_switchover() {
  if (switchover_.phase != Switchover::Phase::kHolding) return;
  auto writer = state_.writer();
  if (!writer || state_.members()[*writer].name != switchover_.from) {
    end_switchover(Switchover::Phase::kFailed, "the primary changed before Patroni was asked");
    return;
  }
  std::string candidate;
  for (const auto& v : state_.members()) {
    if (v.name == switchover_.to) candidate = v.address;
  }
  switchover_.phase = Switchover::Phase::kRequested;
  switchover_call_ = std::make_unique<SwitchoverCall>(
      loop_, pollers_[*writer]->url, state_.members()[*writer].address, candidate,
      [this](bool ok, const std::string& message) { switchover_answered(ok, message); });
  switchover_call_->start();
}

void DatabaseMonitor::switchover_answered(bool ok, const std::string& message) {
  if (SwitchoverCall* raw = switchover_call_.release()) {
    loop_.defer_delete([raw] { delete raw; });
  }
  if (!switchover_under_way()) {
    switchover_.message = message;  // the new primary was seen first
    return;
  }
  if (ok) {
    switchover_.message = message;  // done once a check confirms the new primary
    return;
  }
  end_switchover(Switchover::Phase::kFailed, message);
}

void DatabaseMonitor::end_switchover(Switchover::Phase phase, const std::string& message) {
  switchover_timer_.cancel();
  switchover_.phase = phase;
  switchover_.message = message;
  switchover_.ended_unix_ms = core::unix_ms();
  if (phase == Switchover::Phase::kDone) return;
  record("switchover", "switchover from " + switchover_.from + " failed: " + message +
                           "; the primary takes new connections again");
  state_.release_writer();
  if (decide(loop_.now_ms())) changed_();
}

void DatabaseMonitor::on_switchover_deadline(void* self) {
  auto* m = static_cast<DatabaseMonitor*>(self);
  if (!m->switchover_under_way()) return;
  m->end_switchover(Switchover::Phase::kFailed,
                    "no new primary within " + std::to_string(kSwitchoverDeadlineMs / 1000) + " s");
}

}  // namespace ballast::db
