#pragma once
#include <cstdint>
#include <deque>

namespace ballast::db {

// How far behind in time a replica is, measured on ballast's own clock so that no two
// machines' clocks are compared: the primary's WAL position is sampled at each check, and a
// replica that has replayed up to position P is as far behind as the time since the primary
// first went past P. An idle primary writes nothing, so an idle replica is 0 behind
// (pg_last_xact_replay_timestamp, by contrast, grows on an idle cluster). Pure: the caller
// passes the time.
class LagClock {
 public:
  // How long a history it keeps: lags beyond it read as at least this long.
  static constexpr int64_t kWindowMs = 5 * 60 * 1000;

  // The primary was at `position` at `now_ms`.
  void sample(uint64_t position, int64_t now_ms);
  // The time behind for a replica replayed up to `replayed`, at `now_ms`.
  int64_t lag_ms(uint64_t replayed, int64_t now_ms) const;
  // A new timeline starts a new history (positions of the old one mean nothing to it).
  void reset() { samples_.clear(); }
  // The primary's latest known position (0: none yet).
  uint64_t latest() const { return samples_.empty() ? 0 : samples_.back().position; }

 private:
  struct Sample {
    int64_t at_ms;
    uint64_t position;
  };
  // Increasing in both time and position: only the first sample of each new position is
  // kept, so the history holds one entry per change, not per check.
  std::deque<Sample> samples_;
};

}  // namespace ballast::db
