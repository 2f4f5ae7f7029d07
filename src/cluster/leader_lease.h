#pragma once
#include <cstdint>

namespace ballast::cluster {

// The autoscaler's leadership as its holder sees it, on the monotonic clock. Pure: the
// caller passes the times, so self-fencing is tested without etcd or sleeps.
//
// etcd counts a lease's TTL from when it receives a keepalive, which is after the node sent
// it; so "sent + TTL" never outlasts the real lease. The leader acts only until then, less
// a margin for the clocks' rates, and stops by itself when no renewal came back: it never
// acts on a lease that may have expired (Patroni's and Kubernetes' leader election do the
// same with their own deadlines).
class LeaderLease {
 public:
  LeaderLease(int64_t ttl_ms, int64_t margin_ms) : ttl_ms_(ttl_ms), margin_ms_(margin_ms) {}

  // The campaign sent at `sent_ms` won: `token` is the leader key's create revision.
  void won(int64_t token, int64_t sent_ms) {
    token_ = token;
    valid_until_ms_ = sent_ms + ttl_ms_ - margin_ms_;
  }
  // A keepalive sent at `sent_ms` came back with the lease alive.
  void renewed(int64_t sent_ms) {
    if (token_ == 0) return;
    int64_t until = sent_ms + ttl_ms_ - margin_ms_;
    if (until > valid_until_ms_) valid_until_ms_ = until;
  }
  void lost() {
    token_ = 0;
    valid_until_ms_ = 0;
  }

  // Whether the holder may act now.
  bool acting(int64_t now_ms) const { return token_ != 0 && now_ms < valid_until_ms_; }
  // Won and not yet lost (it may have run out: see acting()).
  bool held() const { return token_ != 0; }
  // The fencing token: every write the leader makes is conditional on it (0: none).
  int64_t token() const { return token_; }
  int64_t valid_until_ms() const { return valid_until_ms_; }

 private:
  int64_t ttl_ms_;
  int64_t margin_ms_;
  int64_t token_ = 0;
  int64_t valid_until_ms_ = 0;
};

}  // namespace ballast::cluster
