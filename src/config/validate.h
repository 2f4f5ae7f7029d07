#pragma once
#include "config/config.h"
#include "config/errors.h"

namespace ballast::config {

// Checks that need the whole file: unique names, rules that point at existing target
// groups, listeners that do not share a port. Resolves rule -> target group indexes.
void validate(Config& config, ErrorList& errors);

}  // namespace ballast::config
