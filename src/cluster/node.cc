#include "cluster/node.h"

#include "core/log.h"

namespace ballast::cluster {

namespace {
// As etcd's own clients and Patroni: a node that is gone leaves the list within 5 s.
constexpr int64_t kMembershipTtlSeconds = 5;
}  // namespace

Node::Node(core::EventLoop& loop, const config::ClusterConfig& settings, std::string self,
           Events events)
    : loop_(loop),
      settings_(settings),
      events_(std::move(events)),
      etcd_(std::make_unique<EtcdClient>(loop, settings.etcd, settings.etcd_timeout_ms)),
      view_(ClusterKeys(settings.prefix)) {
  ClusterWatch::Callbacks callbacks;
  callbacks.config_changed = [this] {
    const auto& kv = view_.config();
    if (kv && events_.config) events_.config(kv->value, kv->mod_revision);
  };
  callbacks.config_deleted = [this] {
    LOG_WARN("cluster: %s was deleted; serving the last configuration",
             view_.keys().config.c_str());
  };
  callbacks.resynced = [this](const std::string& why) {
    if (events_.resynced) events_.resynced(why);
  };
  // election_ is made below; the watch calls this only once started.
  callbacks.members_changed = [this] {
    if (election_) election_->observe(view_.leader(), view_.revision());
  };
  callbacks.targets_changed = [this] {
    if (events_.targets) events_.targets();
  };
  callbacks.purges_changed = [this] {
    if (events_.purges) events_.purges();
  };
  callbacks.progressed = [this] {
    if (events_.progressed) events_.progressed();
  };
  watch_ = std::make_unique<ClusterWatch>(loop_, *etcd_, view_, std::move(callbacks));
  election_ = std::make_unique<LeaderElection>(loop_, *etcd_, view_.keys().leader, settings_.node,
                                               [this](bool leading) {
                                                 if (events_.leadership)
                                                   events_.leadership(leading);
                                               });
  membership_ =
      std::make_unique<Membership>(loop_, *etcd_, view_.keys().node(settings_.node),
                                   std::move(self), kMembershipTtlSeconds, [this](bool reachable) {
                                     // Keepalives stopped: the watch's connection may hang without
                                     // an error (a cut link); read and watch again once etcd
                                     // answers.
                                     if (!reachable)
                                       watch_->restart("etcd stopped answering keepalives");
                                   });
}

Node::~Node() = default;

void Node::start(const std::optional<Snapshot>& from, int64_t now_unix) {
  current_unix_ = now_unix;
  if (from) {
    view_.assume(from->cluster_id, from->revision, from->config, from->targets);
    current_unix_ = from->saved_unix;
  }
  watch_->start();
  membership_->start();
  election_->start();
}

void Node::leave() {
  election_->resign(1000);
  membership_->leave_now(1000);
}

void Node::tick(int64_t now_unix, int64_t now_ms) {
  if (connected()) current_unix_ = now_unix;
  election_->check(now_ms);
}

bool Node::put_with_membership(const std::string& key, const std::string& value,
                               std::function<void(bool)> done) {
  int64_t lease = membership_->lease();
  if (lease == 0 || !membership_->reachable()) return false;
  etcd_->call("/v3/kv/put", put_request(key, value, lease), [done](const Reply& r) { done(r.ok); });
  return true;
}

void Node::write_fenced(const std::vector<Operation>& ops,
                        std::function<void(bool, const std::string&)> done) {
  int64_t token = election_->token();
  if (token == 0) return done(false, "this node does not lead");
  Compare fence{view_.keys().leader, Compare::Target::kCreateRevision, token, ""};
  etcd_->call("/v3/kv/txn", txn_request({fence}, ops, {}), [done](const Reply& r) {
    if (!r.ok) return done(false, r.error);
    try {
      if (!parse_txn(r.body).succeeded) return done(false, "fenced off: another node leads now");
    } catch (const CodecError& e) {
      return done(false, e.what());
    }
    done(true, "");
  });
}

int64_t Node::config_age_seconds(int64_t now_unix) const {
  if (connected()) return 0;
  return now_unix > current_unix_ ? now_unix - current_unix_ : 0;
}

std::string Node::last_error() const {
  if (!membership_->last_error().empty()) return membership_->last_error();
  return watch_->last_error();
}

}  // namespace ballast::cluster
