#pragma once
#include <optional>
#include <string>

#include "config/config.h"
#include "config/errors.h"
#include "tls/ticket_keys.h"

namespace ballast::config {

struct LoadResult {
  std::optional<Config> config;  // set only when there are no errors
  ErrorList errors;
};

// What the loader needs beyond the file.
struct LoadOptions {
  // The process's TLS session ticket keys, shared by every TLS listener of every
  // configuration it loads (null: each listener gets keys of its own).
  std::shared_ptr<tls::TicketKeys> ticket_keys;
  // The process's ACME challenge board (null: no listener answers ACME challenges).
  std::shared_ptr<tls::ChallengeBoard> acme_challenges;
  // The process's response cache, which every configuration it loads shares (null: a
  // configuration with caching rules gets a store of its own).
  std::shared_ptr<cache::Store> cache_store;
};

// Reads, type-checks and validates a configuration file, and reads the files it names
// (certificates, keys). Collects every error it can find rather than stopping at the
// first, so a user fixes a file in one pass.
LoadResult load_config_file(const std::string& path, const LoadOptions& options = {});
// The same, from text; `name` stands for the file in error messages, and relative paths
// in it are taken from the directory of `name`.
LoadResult load_config_string(const std::string& text, const std::string& name,
                              const LoadOptions& options = {});

// A node of a cluster: its own file (`cluster:`, admin, workers...) together with the
// shared configuration from etcd (listeners, target groups, alarms, autoscaling groups).
// Errors point at whichever of the two they are in; `shared_name` names the etcd key and
// revision ("etcd:/ballast/config@42").
LoadResult load_node_config(const std::string& node_text, const std::string& node_name,
                            const std::string& shared_text, const std::string& shared_name,
                            const LoadOptions& options = {});

// What `ballast cluster import` checks before it stores a shared configuration: a full
// check, and none of the sections that belong to a node's own file.
LoadResult check_shared_config(const std::string& text, const std::string& name,
                               const LoadOptions& options = {});

}  // namespace ballast::config
