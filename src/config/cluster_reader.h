#pragma once
#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/errors.h"
#include "config/yaml_reader.h"

namespace ballast::config {

// The `cluster:` block of a node's file: its name and zone, its etcd, the key prefix, where
// it keeps its snapshot.
ClusterConfig read_cluster(const YAML::Node& node, const std::string& path, ErrorList& errors);

// An etcd block (a cluster's, Patroni's): `endpoints` (http:// or https:// URLs, at least
// one), and for a secured etcd `tls: { ca, cert, key }` and `username` with `password_file`.
// The caller reads its own keys and finishes the block.
EtcdAccess read_etcd_access(MapReader& reader, ErrorList& errors);

// The sections every node of a cluster shares (kept in etcd); the others (admin, workers,
// metrics, cache, shutdown_timeout, cluster) belong to each node's own file.
bool is_shared_section(std::string_view key);

// In a cluster, listeners written with an open host (0.0.0.0, ::) bind to the node's
// `cluster.address` when it has one.
void bind_to_node_address(Config& config, ErrorList& errors);

}  // namespace ballast::config
