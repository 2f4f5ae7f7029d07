#pragma once
#include <optional>
#include <string>

#include "config/config.h"
#include "config/errors.h"

namespace ballast::config {

struct LoadResult {
  std::optional<Config> config;  // set only when there are no errors
  ErrorList errors;
};

// Reads, type-checks and validates a configuration file. Collects every error it can
// find rather than stopping at the first, so a user fixes a file in one pass.
LoadResult load_config_file(const std::string& path);
// The same, from text; `name` stands for the file in error messages.
LoadResult load_config_string(const std::string& text, const std::string& name);

}  // namespace ballast::config
