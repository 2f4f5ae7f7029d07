#include "cluster/leader_election.h"

#include "core/clock.h"
#include "core/log.h"

namespace ballast::cluster {

LeaderElection::LeaderElection(core::EventLoop& loop, EtcdClient& etcd, std::string key,
                               std::string node, std::function<void(bool)> changed)
    : loop_(loop),
      etcd_(etcd),
      key_(std::move(key)),
      node_(std::move(node)),
      changed_(std::move(changed)) {}

LeaderElection::~LeaderElection() = default;

void LeaderElection::start() {
  grant();
}

void LeaderElection::on_timer(void* self) {
  auto* e = static_cast<LeaderElection*>(self);
  if (e->busy_) {
    e->loop_.timers().arm(e->timer_, 200, e->loop_.now_ms());
    return;
  }
  if (e->lease_.held()) return e->renew();
  e->campaign();
}

void LeaderElection::grant() {
  busy_ = true;
  std::weak_ptr<bool> alive = alive_;
  etcd_.call("/v3/lease/grant", lease_grant_request(kTtlSeconds), [this, alive](const Reply& r) {
    if (!alive.lock()) return;
    busy_ = false;
    lease_id_ = 0;
    try {
      if (r.ok) lease_id_ = parse_lease_grant(r.body).id;
    } catch (const CodecError&) {
      lease_id_ = 0;
    }
    if (lease_id_ == 0) {
      loop_.timers().arm(timer_, 1000, loop_.now_ms());
      return;
    }
    try_lead();
  });
}

// A follower keeps no lease alive: each campaign starts with a fresh one.
void LeaderElection::campaign() {
  grant();
}

void LeaderElection::try_lead() {
  busy_ = true;
  int64_t sent = core::monotonic_ms();
  std::weak_ptr<bool> alive = alive_;
  Compare absent{key_, Compare::Target::kCreateRevision, 0, ""};
  Operation put{Operation::Kind::kPut, key_, node_, lease_id_, false};
  Operation read{Operation::Kind::kRange, key_, "", 0, false};
  etcd_.call("/v3/kv/txn", txn_request({absent}, {put}, {read}),
             [this, alive, sent](const Reply& r) {
               if (!alive.lock()) return;
               busy_ = false;
               TxnReply txn;
               try {
                 if (!r.ok) throw CodecError(r.error);
                 txn = parse_txn(r.body);
               } catch (const CodecError&) {
                 loop_.timers().arm(timer_, 1000, loop_.now_ms());
                 return;
               }
               if (txn.succeeded) {
                 // The key was created by this transaction: its create revision is the
                 // transaction's revision.
                 lease_.won(txn.header.revision, sent);
                 leader_ = node_;
                 LOG_INFO("cluster: %s leads the autoscaler (fencing token %lld)", node_.c_str(),
                          static_cast<long long>(txn.header.revision));
                 loop_.timers().arm(timer_, kRenewMs, loop_.now_ms());
                 changed_(true);
                 return;
               }
               if (!txn.ranges.empty() && !txn.ranges[0].empty()) {
                 leader_ = txn.ranges[0][0].value;
               }
               // A follower campaigns again when the watch says the key went (observe);
               // this timer covers a watch that is down.
               loop_.timers().arm(timer_, kTtlSeconds * 1000, loop_.now_ms());
             });
}

void LeaderElection::renew() {
  busy_ = true;
  int64_t sent = core::monotonic_ms();
  std::weak_ptr<bool> alive = alive_;
  etcd_.call("/v3/lease/keepalive", lease_id_request(lease_id_),
             [this, alive, sent](const Reply& r) {
               if (!alive.lock()) return;
               busy_ = false;
               int64_t ttl = -1;
               try {
                 if (r.ok) ttl = parse_keepalive_ttl(r.body);
               } catch (const CodecError&) {
                 ttl = -1;
               }
               if (ttl == 0) {
                 lease_id_ = 0;
                 step_down("its lease expired");
                 return campaign();
               }
               if (ttl > 0) lease_.renewed(sent);
               // A failed renewal is tried again at the usual pace: check() stops the
               // leader before its lease can run out.
               loop_.timers().arm(timer_, ttl > 0 ? kRenewMs : 500, loop_.now_ms());
             });
}

void LeaderElection::observe(const std::optional<KeyValue>& leader, int64_t revision) {
  if (lease_.held() && revision < lease_.token()) return;  // from before this node won
  if (leader) {
    leader_ = leader->value;
    // Someone else holds the key: whatever this node believed, it does not lead.
    if (lease_.held() && leader->create_revision != lease_.token()) {
      step_down("the leader key belongs to " + leader->value);
    }
    return;
  }
  leader_.clear();
  if (lease_.held()) {
    step_down("the leader key is gone");
    lease_id_ = 0;  // revoked or expired: a new lease for the next campaign
  }
  if (!busy_) {
    timer_.cancel();
    campaign();
  }
}

void LeaderElection::check(int64_t now_ms) {
  if (lease_.held() && !lease_.acting(now_ms)) {
    step_down("no renewal of its lease came back in time (self-fenced)");
  }
}

void LeaderElection::step_down(const std::string& why) {
  if (!lease_.held()) return;
  LOG_WARN("cluster: %s stops leading the autoscaler: %s", node_.c_str(), why.c_str());
  lease_.lost();
  if (leader_ == node_) leader_.clear();
  changed_(false);
}

void LeaderElection::resign(int64_t timeout_ms) {
  if (lease_id_ == 0) return;
  bool was_leader = lease_.held();
  lease_.lost();
  revoke_lease_now(etcd_.access_from_current(), lease_id_, timeout_ms);
  lease_id_ = 0;
  if (was_leader) LOG_INFO("cluster: %s handed the autoscaler's leadership over", node_.c_str());
}

}  // namespace ballast::cluster
