#pragma once
#include <yaml-cpp/yaml.h>

#include <string>

#include "config/config.h"
#include "config/errors.h"

namespace ballast::config {

// One entry of `alarms`: a metric alarm or a composite one (`rule`), with its actions.
AlarmConfig read_alarm(const YAML::Node& node, const std::string& path, ErrorList& errors);

// CloudWatch's name of a comparison ("GreaterThanThreshold"), and the file's name of a
// treat_missing_data value ("not_breaching").
const char* comparison_name(AlarmConfig::Comparison c);
const char* missing_data_name(AlarmConfig::MissingData m);

// Parses "http://host:port/path" for a webhook (hosts are resolved now, not when the
// alarm fires); false with `error` set when it is not such a URL.
bool parse_webhook_url(const std::string& url, AlarmAction* action, std::string* error);

}  // namespace ballast::config
