#pragma once
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>

#include "config/config.h"
#include "config/errors.h"
#include "tls/ticket_keys.h"

namespace ballast::config {

// A listener's `tls:` block: certificates, policy, client certificates, HSTS.
TlsConfig read_tls(const YAML::Node& node, const std::string& path, ErrorList& errors);

// A target group's `tls:` block: CA, server name, verification, client certificate.
TargetTlsConfig read_target_tls(const YAML::Node& node, const std::string& path, ErrorList& errors);

// Reads every TLS listener's certificate files (paths relative to `base_dir`) and builds
// its context, and the client context of every group with TLS to its targets; a file that cannot be
// used is an error at its entry, with the reason. `ticket_keys`: the process's session ticket keys
// (null: each context gets its own).
void build_tls_contexts(Config& config, const std::string& base_dir,
                        const std::shared_ptr<tls::TicketKeys>& ticket_keys, ErrorList& errors);

}  // namespace ballast::config
