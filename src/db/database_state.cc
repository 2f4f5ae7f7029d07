#include "db/database_state.h"

#include <algorithm>

namespace ballast::db {

using health::HealthReason;
using health::TargetHealth;

DatabaseState::DatabaseState(std::string scope, std::vector<Member> members, ReaderPolicy reader)
    : scope_(std::move(scope)), policy_(reader) {
  for (auto& m : members) {
    MemberView v;
    v.name = std::move(m.name);
    v.address = std::move(m.address);
    v.error = "no status yet";
    views_.push_back(std::move(v));
  }
  received_.assign(views_.size(), 0);
  replayed_.assign(views_.size(), 0);
  primary_position_.assign(views_.size(), 0);
  streaming_.assign(views_.size(), {});
}

void DatabaseState::report(size_t member, const PatroniStatus& status, int64_t now_ms) {
  // An agent of another cluster (a wrong REST URL) says nothing about this one.
  if (!status.scope.empty() && status.scope != scope_) {
    unreachable(
        member,
        "its agent belongs to Patroni scope \"" + status.scope + "\", not \"" + scope_ + "\"",
        now_ms);
    return;
  }
  MemberView& v = views_[member];
  v.role = status.role;
  v.confirmed_primary = status.confirmed_primary;
  v.state = status.state;
  v.error.clear();
  v.timeline = status.timeline;
  v.replay_paused = status.replay_paused;
  v.nofailover = status.nofailover;
  v.noloadbalance = status.noloadbalance;
  received_[member] = std::max(status.received, status.replayed);
  replayed_[member] = status.replayed;
  primary_position_[member] = status.role == Role::kPrimary ? status.wal_position : 0;
  streaming_[member] = status.streaming;
}

void DatabaseState::unreachable(size_t member, const std::string& error, int64_t /*now_ms*/) {
  MemberView& v = views_[member];
  v.role = Role::kUnknown;
  v.confirmed_primary = false;
  v.state.clear();
  v.error = error;
  v.lag_bytes = 0;
  v.lag_ms = 0;
  received_[member] = replayed_[member] = primary_position_[member] = 0;
  streaming_[member].clear();
}

std::vector<WriterChange> DatabaseState::decide(int64_t now_ms) {
  std::vector<WriterChange> changes;
  choose_writer(now_ms, changes);
  measure_lag(now_ms);
  fresh_replicas_ = 0;
  for (size_t i = 0; i < views_.size(); ++i) {
    views_[i].writer = writer_verdict(i);
    views_[i].reader = reader_verdict(views_[i]);
    fresh_replicas_ += views_[i].reader.state == TargetHealth::kHealthy;
  }
  if (fresh_replicas_ == 0 && writer_ && policy_.fallback == ReaderFallback::kWriter) {
    views_[*writer_].reader = {TargetHealth::kHealthy, HealthReason::kNone,
                               "the primary, as no replica is fresh enough (fallback: writer)"};
  }
  return changes;
}

void DatabaseState::choose_writer(int64_t now_ms, std::vector<WriterChange>& changes) {
  std::optional<size_t> chosen;
  bool tied = false;
  for (size_t i = 0; i < views_.size(); ++i) {
    if (!views_[i].confirmed_primary) continue;
    if (!chosen || views_[i].timeline > views_[*chosen].timeline) {
      chosen = i;
      tied = false;
    } else if (views_[i].timeline == views_[*chosen].timeline) {
      tied = true;
    }
  }
  if (tied) chosen.reset();  // never guess between two members that both say primary
  if (chosen == writer_) {
    // A silent primary that speaks again, not as the primary, is fenced like any other.
    if (silent_writer_ && views_[*silent_writer_].error.empty()) silent_writer_.reset();
    return;
  }
  if (writer_) {
    const MemberView& old = views_[*writer_];
    std::string why =
        !old.error.empty()           ? old.error
        : old.role != Role::kPrimary ? "it now runs as " + std::string(to_string(old.role))
        : !old.confirmed_primary     ? "its agent no longer confirms it (state " + old.state + ")"
                                     : "another member is confirmed on a later timeline";
    changes.push_back({WriterChange::Kind::kLost, old.name, "", 0, 0, why});
    last_writer_ = old.name;
    silent_writer_ = !old.error.empty() && !chosen ? writer_ : std::nullopt;
    writer_lost_ms_ = now_ms;
  }
  writer_ = chosen;
  holding_writer_ = false;  // a switchover ends with the primary it was waiting for (or none)
  if (writer_) {
    silent_writer_.reset();
    int64_t without = writer_lost_ms_ >= 0 ? now_ms - writer_lost_ms_ : 0;
    changes.push_back({WriterChange::Kind::kPromoted, views_[*writer_].name, last_writer_,
                       views_[*writer_].timeline, without, ""});
    writer_lost_ms_ = -1;
  }
}

void DatabaseState::measure_lag(int64_t now_ms) {
  if (writer_) {
    if (views_[*writer_].timeline != clock_timeline_) {
      clock_.reset();  // positions past the switch point on the old timeline mean nothing now
      clock_timeline_ = views_[*writer_].timeline;
    }
    clock_.sample(primary_position_[*writer_], now_ms);
  }
  // Without a primary, replicas are compared with the furthest position anyone has.
  uint64_t reference = writer_ ? primary_position_[*writer_] : clock_.latest();
  if (!writer_) {
    for (uint64_t r : received_) reference = std::max(reference, r);
  }
  for (size_t i = 0; i < views_.size(); ++i) {
    MemberView& v = views_[i];
    if (v.role != Role::kReplica || !v.error.empty()) {
      v.lag_bytes = 0;
      v.lag_ms = 0;
      continue;
    }
    v.lag_bytes = reference > replayed_[i] ? reference - replayed_[i] : 0;
    v.lag_ms = clock_.lag_ms(replayed_[i], now_ms);
  }
}

EndpointVerdict DatabaseState::writer_verdict(size_t i) const {
  const MemberView& v = views_[i];
  if (writer_ == i && holding_writer_) {
    return {TargetHealth::kUnhealthy, HealthReason::kRole,
            "the primary, handing over in a switchover: new connections wait for the next"};
  }
  if (writer_ == i) {
    return {TargetHealth::kHealthy, HealthReason::kNone,
            "the primary, timeline " + std::to_string(v.timeline)};
  }
  if (silent_writer_ == i) {
    return {TargetHealth::kUnhealthy, HealthReason::kNoStatus,
            "the last primary, now silent (" + v.error +
                "): no new connections; open ones stay until another member is confirmed"};
  }
  if (!v.error.empty()) return {TargetHealth::kFenced, HealthReason::kNoStatus, v.error};
  if (v.role == Role::kPrimary) {
    return {TargetHealth::kFenced, HealthReason::kRole,
            "runs as primary, but its agent does not confirm it (state " + v.state + ")"};
  }
  return {TargetHealth::kFenced, HealthReason::kRole, std::string("a ") + to_string(v.role)};
}

bool DatabaseState::streams(const MemberView& v) const {
  if (!writer_) return true;  // nothing to stream from: the lag bounds decide
  const std::vector<std::string>& senders = streaming_[*writer_];
  if (std::find(senders.begin(), senders.end(), v.name) != senders.end()) return true;
  // Patroni names each stream after its member; members named otherwise here (by address)
  // cannot be matched, and then the check does not apply.
  for (const auto& m : views_) {
    if (std::find(senders.begin(), senders.end(), m.name) != senders.end()) return false;
  }
  return true;
}

EndpointVerdict DatabaseState::reader_verdict(const MemberView& v) const {
  if (!v.error.empty()) return {TargetHealth::kUnhealthy, HealthReason::kNoStatus, v.error};
  if (v.role != Role::kReplica) {
    return {TargetHealth::kUnhealthy, HealthReason::kRole,
            std::string("a ") + to_string(v.role) + ", not a replica"};
  }
  if (!v.running()) {
    return {TargetHealth::kUnhealthy, HealthReason::kExcluded, "PostgreSQL is " + v.state};
  }
  if (v.noloadbalance) {
    return {TargetHealth::kUnhealthy, HealthReason::kExcluded, "tagged noloadbalance"};
  }
  if (!streams(v)) {
    return {TargetHealth::kUnhealthy, HealthReason::kExcluded, "not streaming from the primary"};
  }
  std::string behind =
      std::to_string(v.lag_bytes) + " bytes, " + std::to_string(v.lag_ms) + " ms behind";
  if (policy_.max_lag_bytes > 0 && v.lag_bytes > policy_.max_lag_bytes) {
    return {TargetHealth::kUnhealthy, HealthReason::kLagging,
            behind + " (max_lag " + std::to_string(policy_.max_lag_bytes) + " bytes)"};
  }
  if (policy_.max_lag_ms > 0 && v.lag_ms > policy_.max_lag_ms) {
    return {TargetHealth::kUnhealthy, HealthReason::kLagging,
            behind + " (max_lag_time " + std::to_string(policy_.max_lag_ms) + " ms)"};
  }
  return {TargetHealth::kHealthy, HealthReason::kNone, "a replica, " + behind};
}

}  // namespace ballast::db
