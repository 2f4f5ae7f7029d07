#pragma once
#include <string>

#include "backend/backend_server.h"

namespace ballast::app {

// `ballast check -c FILE`: validates, prints every error, exits non-zero on any.
int check_command(const std::string& config_path, bool quiet);
// `ballast run -c FILE`: validates, then runs the proxy until SIGTERM / SIGINT.
int run_command(const std::string& config_path);
// `ballast backend --port N`: the demo application instance.
int backend_command(const backend::BackendOptions& options);

}  // namespace ballast::app
