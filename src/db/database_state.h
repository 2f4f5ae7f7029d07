#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "db/lag_clock.h"
#include "db/member_verdict.h"
#include "db/patroni_status.h"

namespace ballast::db {

// Where the reader endpoint sends connections when no replica is fresh enough.
using config::ReaderFallback;

struct ReaderPolicy {
  uint64_t max_lag_bytes = 0;  // 0: no bound in bytes
  int64_t max_lag_ms = 0;      // 0: no bound in time
  ReaderFallback fallback = ReaderFallback::kWriter;
};

// A change of the writer endpoint's primary, for the activity log and the metrics.
struct WriterChange {
  enum class Kind : uint8_t {
    kPromoted,  // a member is now the confirmed primary
    kLost,      // the primary is no longer confirmed; none is yet
  };
  Kind kind;
  std::string member;      // promoted or lost
  std::string previous;    // kPromoted: the primary before it ("": none known)
  uint64_t timeline = 0;   // kPromoted: the new primary's timeline
  int64_t without_ms = 0;  // kPromoted: how long there was no confirmed primary
  std::string why;         // kLost: what the last primary's status said
};

// One Patroni cluster's members as ballast sees them, and what each endpoint does with each.
// Pure: statuses and the time come in, verdicts and changes go out; tested without
// PostgreSQL.
//
// Rules (docs/databases.md):
// - The writer's member is the one whose agent confirms it (`/primary` says 200: it holds
//   the leader key and runs as primary). A member whose agent does not answer is unknown,
//   never the primary. Two confirmations at once (never from a healthy Patroni) pick none.
// - Every other member is fenced on the writer endpoint: it gets nothing and anything still
//   open to it closes. The one exception is a primary whose agent went silent while no other
//   member is confirmed: it takes no new connections, and keeps its sessions until another
//   member is confirmed (Patroni demotes a primary that cannot keep its key).
// - A replica serves reads while it runs, is not tagged noloadbalance and is within the
//   lag bounds. When none does, the primary serves them under ReaderFallback::kWriter.
class DatabaseState {
 public:
  struct Member {
    std::string name;
    std::string address;
  };
  DatabaseState(std::string scope, std::vector<Member> members, ReaderPolicy reader);

  // The reader endpoint's bounds changed (a reload); the next decide() applies them.
  void set_policy(ReaderPolicy reader) { policy_ = reader; }

  // A planned switchover: the primary takes no new writer connections (they wait) until
  // another member is confirmed, or release_writer() (the switchover failed or took too long).
  void hold_writer() { holding_writer_ = writer_.has_value(); }
  void release_writer() { holding_writer_ = false; }
  bool holding_writer() const { return holding_writer_; }

  // A member's agent answered (`status`) or did not (`error`), at `now_ms`.
  void report(size_t member, const PatroniStatus& status, int64_t now_ms);
  void unreachable(size_t member, const std::string& error, int64_t now_ms);

  // Decides every member's verdicts from the latest reports. Returns the writer's changes
  // since the previous call (at most a loss and a promotion).
  std::vector<WriterChange> decide(int64_t now_ms);

  const std::vector<MemberView>& members() const { return views_; }
  // The confirmed primary's position in members(), if any.
  std::optional<size_t> writer() const { return writer_; }
  // Replicas fresh enough to read from, as of the last decide().
  size_t fresh_replicas() const { return fresh_replicas_; }

 private:
  void choose_writer(int64_t now_ms, std::vector<WriterChange>& changes);
  void measure_lag(int64_t now_ms);
  EndpointVerdict writer_verdict(size_t i) const;
  EndpointVerdict reader_verdict(const MemberView& m) const;
  // Whether the primary lists the replica among its streams (see reader_verdict).
  bool streams(const MemberView& m) const;

  std::string scope_;
  ReaderPolicy policy_;
  std::vector<MemberView> views_;
  std::vector<uint64_t> received_;  // replicas' received positions, for the reference
  std::vector<uint64_t> replayed_;
  std::vector<uint64_t> primary_position_;  // members reporting as primary: their position
  // Members reporting as primary: who streams from them (member names).
  std::vector<std::vector<std::string>> streaming_;
  std::optional<size_t> writer_;
  std::optional<size_t> silent_writer_;  // the last primary, gone silent, none since
  std::string last_writer_;
  int64_t writer_lost_ms_ = -1;  // since when none is confirmed (-1: one is)
  uint64_t clock_timeline_ = 0;
  LagClock clock_;
  size_t fresh_replicas_ = 0;
  bool holding_writer_ = false;
};

}  // namespace ballast::db
