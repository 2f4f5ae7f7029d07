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

}  // namespace ballast::config
