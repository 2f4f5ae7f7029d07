#pragma once
#include <yaml-cpp/yaml.h>

#include <string>

#include "config/config.h"
#include "config/errors.h"

namespace ballast::config {

// One entry of `autoscaling_groups`: sizes, timings, the launch template, policies,
// scheduled actions and lifecycle hooks. Cross-checks (the target group and alarms
// exist) are validation's.
AutoScalingGroupConfig read_autoscaling_group(const YAML::Node& node, const std::string& path,
                                              ErrorList& errors);

const char* policy_metric_name(PolicyMetric::Kind kind);

}  // namespace ballast::config
