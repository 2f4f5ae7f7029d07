#pragma once
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "config/errors.h"

namespace ballast::config {

// One entry of a listener's `rules`: its match conditions and its one action (forward,
// fixed_response or redirect).
RuleConfig read_rule(const YAML::Node& node, const std::string& path, ErrorList& errors);

// Orders rules for evaluation: those with a priority first, lowest first, then the rest
// in file order. Two rules of one listener with the same priority are an error.
void order_rules(std::vector<RuleConfig>& rules, const std::string& listener_path,
                 ErrorList& errors);

}  // namespace ballast::config
