#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cluster/etcd_codec.h"

namespace ballast::cluster {

// The keys of one cluster under its prefix ("/ballast"):
//   /ballast/config          the shared configuration (YAML), written by `cluster import`
//   /ballast/nodes/NAME      each node's membership, under the node's lease
//   /ballast/leader          the autoscaler's leader, under the leader's lease
//   /ballast/targets/GROUP/ADDRESS   a target registered through the API or the autoscaler
//   /ballast/autoscaling/GROUP       an autoscaling group's state, written by the leader
//   /ballast/health/NODE             the instances NODE's checks find unhealthy (its lease)
//   /ballast/purges/ID               a cache purge every node applies (the writer's lease)
struct ClusterKeys {
  explicit ClusterKeys(std::string prefix);
  std::string prefix;  // "/ballast"
  std::string all;     // "/ballast/": what a node watches
  std::string config;
  std::string nodes;  // "/ballast/nodes/"
  std::string leader;
  std::string targets;      // "/ballast/targets/"
  std::string autoscaling;  // "/ballast/autoscaling/"
  std::string health;       // "/ballast/health/"
  std::string purges;       // "/ballast/purges/"
  std::string node(const std::string& name) const { return nodes + name; }
  std::string target(const std::string& group, const std::string& address) const {
    return targets + group + "/" + address;
  }
};

// What a change to the view means for the node.
enum class ViewChange {
  kNone,
  kConfig,         // the configuration key has a new revision (or a new value after a resync)
  kConfigDeleted,  // it went away: nodes keep serving the last one
  kTargets,        // a registered target was added, changed or removed
  kMembers,        // a node or the leader came or went
  kPurges,         // a cache purge was asked (or its key went)
};

// A target registered in the cluster (through any node's API, or by the autoscaler).
struct RegisteredTarget {
  std::string group;
  std::string address;
  KeyValue kv;  // its key; the value is JSON: {"weight": N, "draining": bool, "owner": ""}
};

// A node's copy of its cluster's keys, kept from a full read and then from watch events
// (APISIX's config_etcd: one watcher per prefix, resumed from revision + 1, a full read
// after compaction). Pure: the watch feeds it; the caller acts on what it returns.
class ClusterView {
 public:
  explicit ClusterView(ClusterKeys keys) : keys_(std::move(keys)) {}

  // A full read of the prefix. Returns kConfig when the configuration differs from the
  // one the view knew (its revision, or its cluster).
  ViewChange load(const RangeReply& reply);
  // One watch event; events below the view's revision are old news (a resumed watch may
  // repeat them) and change nothing. Events of one transaction, or keys deleted with one
  // lease, share a revision: each of them applies.
  ViewChange apply(const WatchEvent& event);
  // The view's store revision moves with each message (events or not).
  void seen_revision(int64_t revision);

  // What a reply's header says about the store, against what the view knew: empty when
  // consistent, else why the node must read everything again (a restored backup makes
  // the revision go backwards; a rebuilt cluster has another id).
  std::string inconsistency(const Header& header) const;
  void adopt_identity(const Header& header);

  const ClusterKeys& keys() const { return keys_; }
  uint64_t cluster_id() const { return cluster_id_; }
  int64_t revision() const { return revision_; }  // the store's, as last seen
  const std::optional<KeyValue>& config() const { return config_; }
  // Node name -> its membership value (JSON text).
  const std::map<std::string, KeyValue>& nodes() const { return nodes_; }
  const std::optional<KeyValue>& leader() const { return leader_; }
  // By "GROUP/ADDRESS".
  const std::map<std::string, RegisteredTarget>& targets() const { return targets_; }
  const RegisteredTarget* target(const std::string& group, const std::string& address) const;
  // Autoscaling group name -> its state as the leader last wrote it (JSON).
  const std::map<std::string, KeyValue>& autoscaling() const { return autoscaling_; }
  // Node name -> the "GROUP/ADDRESS" targets its health checks find unhealthy.
  const std::map<std::string, std::set<std::string>>& health() const { return health_; }
  // Purge id -> its key: {"by": "url"|"prefix"|"tag", "value", "node", "unix_ms"}.
  const std::map<std::string, KeyValue>& purges() const { return purges_; }
  // Starts from a snapshot: the configuration and registered targets known, and its store's
  // identity. The first full read replaces them all.
  void assume(uint64_t cluster_id, int64_t config_revision, const std::string& text,
              const std::vector<KeyValue>& targets);

 private:
  ViewChange put(const KeyValue& kv);
  ViewChange remove(const std::string& key);

  ClusterKeys keys_;
  uint64_t cluster_id_ = 0;
  int64_t revision_ = 0;
  std::optional<KeyValue> config_;
  std::map<std::string, KeyValue> nodes_;
  std::optional<KeyValue> leader_;
  std::map<std::string, RegisteredTarget> targets_;
  std::map<std::string, KeyValue> autoscaling_;
  std::map<std::string, std::set<std::string>> health_;
  std::map<std::string, KeyValue> purges_;
};

}  // namespace ballast::cluster
