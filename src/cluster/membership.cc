#include "cluster/membership.h"

#include "cluster/etcd_codec.h"
#include "core/log.h"

namespace ballast::cluster {

Membership::Membership(core::EventLoop& loop, EtcdClient& etcd, std::string key, std::string value,
                       int64_t ttl_seconds, std::function<void(bool)> reachable)
    : loop_(loop),
      etcd_(etcd),
      key_(std::move(key)),
      value_(std::move(value)),
      ttl_seconds_(ttl_seconds),
      on_reachable_(std::move(reachable)) {}

Membership::~Membership() = default;

void Membership::start() {
  grant();
}

// Three keepalives per TTL, as etcd's own clients send: one lost answer is not a lost lease.
void Membership::on_timer(void* self) {
  auto* m = static_cast<Membership*>(self);
  if (m->in_flight_) {
    m->loop_.timers().arm(m->timer_, m->ttl_seconds_ * 1000 / 3, m->loop_.now_ms());
    return;
  }
  if (m->lease_ == 0) return m->grant();
  if (!m->registered_) return m->register_key();
  m->keepalive();
}

void Membership::grant() {
  in_flight_ = true;
  std::weak_ptr<bool> alive = alive_;
  etcd_.call("/v3/lease/grant", lease_grant_request(ttl_seconds_), [this, alive](const Reply& r) {
    if (!alive.lock()) return;
    in_flight_ = false;
    if (!r.ok) return failed(r.error);
    try {
      lease_ = parse_lease_grant(r.body).id;
    } catch (const CodecError& e) {
      return failed(std::string("lease grant: ") + e.what());
    }
    register_key();
  });
}

void Membership::register_key() {
  in_flight_ = true;
  std::weak_ptr<bool> alive = alive_;
  etcd_.call("/v3/kv/put", put_request(key_, value_, lease_), [this, alive](const Reply& r) {
    if (!alive.lock()) return;
    in_flight_ = false;
    if (!r.ok) {
      // A lease that expired meanwhile is refused here: start with a new one.
      if (r.error.find("lease not found") != std::string::npos) lease_ = 0;
      return failed(r.error);
    }
    registered_ = true;
    contact();
    LOG_INFO("cluster: joined as %s (lease %llx)", key_.c_str(),
             static_cast<unsigned long long>(lease_));
    loop_.timers().arm(timer_, ttl_seconds_ * 1000 / 3, loop_.now_ms());
  });
}

void Membership::keepalive() {
  in_flight_ = true;
  std::weak_ptr<bool> alive = alive_;
  etcd_.call("/v3/lease/keepalive", lease_id_request(lease_), [this, alive](const Reply& r) {
    if (!alive.lock()) return;
    in_flight_ = false;
    if (!r.ok) return failed(r.error);
    int64_t ttl = 0;
    try {
      ttl = parse_keepalive_ttl(r.body);
    } catch (const CodecError& e) {
      return failed(std::string("keepalive: ") + e.what());
    }
    if (ttl <= 0) {
      // The lease expired (etcd was away longer than the TTL): the key went with it.
      LOG_WARN("cluster: lease %llx expired; joining again",
               static_cast<unsigned long long>(lease_));
      lease_ = 0;
      registered_ = false;
      return grant();
    }
    contact();
    loop_.timers().arm(timer_, ttl_seconds_ * 1000 / 3, loop_.now_ms());
  });
}

void Membership::contact() {
  last_contact_ms_ = loop_.now_ms();
  last_error_.clear();
  if (!reachable_) {
    reachable_ = true;
    if (on_reachable_) on_reachable_(true);
  }
}

void Membership::failed(const std::string& why) {
  if (why != last_error_) LOG_WARN("cluster: %s", why.c_str());
  last_error_ = why;
  if (reachable_) {
    reachable_ = false;
    if (on_reachable_) on_reachable_(false);
  }
  // Sooner than a keepalive: a node that lost etcd wants to know when it is back.
  loop_.timers().arm(timer_, 500, loop_.now_ms());
}

void Membership::leave_now(int64_t timeout_ms) {
  timer_.cancel();
  if (lease_ == 0) return;
  revoke_lease_now(etcd_.access_from_current(), lease_, timeout_ms);
  lease_ = 0;
  registered_ = false;
}

}  // namespace ballast::cluster
