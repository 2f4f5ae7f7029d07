#include "cluster/cluster_watch.h"

namespace ballast::cluster {

ClusterWatch::ClusterWatch(core::EventLoop& loop, EtcdClient& etcd, ClusterView& view,
                           Callbacks callbacks)
    : view_(view), callbacks_(std::move(callbacks)), watch_(loop, etcd, *this, "cluster") {}

void ClusterWatch::load(const RangeReply& range, const std::string& resynced) {
  view_.adopt_identity(range.header);
  if (!resynced.empty() && callbacks_.resynced) callbacks_.resynced(resynced);
  ViewChange change = view_.load(range);
  if (change == ViewChange::kConfig || !resynced.empty()) {
    if (view_.config()) callbacks_.config_changed();
  } else if (change == ViewChange::kConfigDeleted) {
    callbacks_.config_deleted();
  }
  if (callbacks_.members_changed) callbacks_.members_changed();
  if (callbacks_.targets_changed) callbacks_.targets_changed();
  if (callbacks_.purges_changed) callbacks_.purges_changed();
  if (callbacks_.progressed) callbacks_.progressed();
}

void ClusterWatch::apply(const WatchMessage& m) {
  bool members = false;
  bool targets = false;
  bool purges = false;
  for (const auto& event : m.events) {
    ViewChange change = view_.apply(event);
    if (change == ViewChange::kConfig) callbacks_.config_changed();
    if (change == ViewChange::kConfigDeleted) callbacks_.config_deleted();
    members = members || change == ViewChange::kMembers;
    targets = targets || change == ViewChange::kTargets;
    purges = purges || (change == ViewChange::kPurges && event.type == WatchEvent::Type::kPut);
  }
  // Only a progress notice (no events, not the creation) says that everything up to its
  // header's revision was sent; the creation's header may run ahead of the events still to
  // come, which must not then look old.
  if (!m.created && m.events.empty()) view_.seen_revision(m.header.revision);
  if (members && callbacks_.members_changed) callbacks_.members_changed();
  if (targets && callbacks_.targets_changed) callbacks_.targets_changed();
  if (purges && callbacks_.purges_changed) callbacks_.purges_changed();
  if (callbacks_.progressed) callbacks_.progressed();
}

}  // namespace ballast::cluster
