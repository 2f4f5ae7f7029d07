#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cluster/etcd_codec.h"

namespace ballast::cluster {

// The last shared configuration a node applied, and the targets registered in the cluster
// (through the API or by the autoscaler), kept on its disk so that it can start and serve
// while etcd is unreachable (Envoy and APISIX nodes restarted during a store outage come up
// empty; a ballast node comes up as it was, autoscaled fleet included).
struct Snapshot {
  uint64_t cluster_id = 0;
  int64_t revision = 0;  // the configuration key's mod revision
  int64_t saved_unix = 0;
  std::string config;  // the YAML text, as stored in etcd
  // The keys under PREFIX/targets/ as the node last knew them (a snapshot written before
  // they were kept has none).
  std::vector<KeyValue> targets;
};

// `dir`/config.snapshot. Written to a temporary file, flushed and renamed, so a crash
// leaves the previous snapshot or the new one, never half of one.
bool save_snapshot(const std::string& dir, const Snapshot& snapshot, std::string* error);
// nullopt when there is none; an unreadable or damaged one is an error (said in `error`).
std::optional<Snapshot> load_snapshot(const std::string& dir, std::string* error);
std::string snapshot_path(const std::string& dir);

}  // namespace ballast::cluster
