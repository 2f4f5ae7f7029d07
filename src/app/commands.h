#pragma once
#include <string>
#include <vector>

#include "backend/backend_server.h"

namespace ballast::app {

// `ballast check -c FILE`: validates, prints every error, exits non-zero on any.
int check_command(const std::string& config_path, bool quiet);
// `ballast run -c FILE`: validates, then runs the proxy until SIGTERM / SIGINT.
int run_command(const std::string& config_path);
// `ballast backend --port N`: the demo application instance.
int backend_command(const backend::BackendOptions& options);

struct CtlOptions {
  std::string admin;  // HOST:PORT; else $BALLAST_ADMIN, else 127.0.0.1:9901
  std::string token;  // else $BALLAST_TOKEN
  bool json = false;  // print the API's JSON instead of tables
  std::vector<std::string> args;
  // ctl metrics: the statistic, the period and how far back (durations: "10s", "15m").
  std::string stat = "Average";
  std::string period = "60s";
  std::string since = "15m";
  // ctl top: screens to draw before exiting (0: until Ctrl-C).
  int iterations = 0;
};
// `ballast ctl ACTION ...`: talks to a running ballast through its admin API.
int ctl_command(const CtlOptions& options);

}  // namespace ballast::app
