#pragma once
#include <string>
#include <vector>

#include "backend/backend_server.h"
#include "config/config.h"

namespace ballast::app {

// `ballast check -c FILE`: validates, prints every error, exits non-zero on any.
int check_command(const std::string& config_path, bool quiet);
// `ballast run -c FILE`: validates, then runs the proxy until SIGTERM / SIGINT.
// `takeover_fd` >= 0: started by a running ballast for a binary upgrade; the handover
// comes on that socket.
int run_command(const std::string& config_path, int takeover_fd = -1);
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
  // ctl db switchover: the member to promote ("": Patroni's choice).
  std::string to;
};
struct LoadCommandOptions {
  std::string url;
  std::string profile = "constant";
  double rate = 100;     // requests/s (constant; start of step, ramp; spike base; sine mean)
  double to = 0;         // step: after; ramp: end; spike: peak
  double at_s = 0;       // step and spike: when
  double spike_s = 5;    // spike: how long
  double amplitude = 0;  // sine
  double period_s = 60;  // sine
  double duration_s = 10;
  int connections = 256;
  double timeout_s = 10;
  bool json = false;
  bool quiet = false;
};
// `ballast load URL`: open-loop load at a set arrival rate; exit 1 when any request failed.
int load_command(const LoadCommandOptions& options);

struct ClusterCommandOptions {
  std::string action;             // import | export
  std::string config;             // import: the shared configuration's file
  std::vector<std::string> etcd;  // endpoints; else the node file's, else 127.0.0.1:2379
  std::string prefix;             // else the node file's, else /ballast
  std::string node_config;        // a node's file to take etcd (with TLS, user) and prefix from
  config::EtcdAccess access;      // filled from the above
};
// `ballast cluster import -c FILE` / `ballast cluster export`: the shared configuration
// in etcd.
int cluster_command(ClusterCommandOptions options);

// `ballast ctl ACTION ...`: talks to a running ballast through its admin API.
int ctl_command(const CtlOptions& options);

}  // namespace ballast::app
