#pragma once
#include <yaml-cpp/yaml.h>

#include <string>

#include "config/config.h"
#include "config/errors.h"

namespace ballast::config {

// One item of `databases:`: a Patroni cluster, its members and its two endpoints.
DatabaseConfig read_database(const YAML::Node& node, const std::string& path, ErrorList& errors);

// Adds each database's endpoints to the configuration as what they are made of: a tcp
// listener and a target group of the members for the writer ("NAME-writer") and the
// reader ("NAME-reader"), so that the proxy, the registry, the metrics and the API treat
// them as they treat every listener and group. Names taken already are errors at the
// database.
void add_database_endpoints(Config& config, ErrorList& errors);

}  // namespace ballast::config
