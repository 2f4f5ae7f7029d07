// ballast: one binary, several subcommands (run, check, backend, ctl, load).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "app/commands.h"
#include "config/units.h"
#include "control/track_guard.h"
#include "core/log.h"
#include "scale/instance_guard.h"

namespace {
// An option that takes a duration as the configuration writes it ("30s", "500ms", "1m30s")
// or a bare number of seconds, stored in `seconds`.
CLI::Option* add_duration_option(CLI::App* app, const std::string& name, double& seconds,
                                 const std::string& help) {
  auto* option = app->add_option_function<std::string>(
      name,
      [&seconds, name](const std::string& text) {
        std::optional<double> parsed = ballast::config::parse_command_line_seconds(text);
        if (!parsed) {
          throw CLI::ValidationError(name, "\"" + text +
                                               "\" is not a duration: write it as 30s, 500ms, "
                                               "1m30s, or a number of seconds");
        }
        seconds = *parsed;
      },
      help);
  option->type_name("DURATION");
  return option;
}

std::string seconds_text(double seconds) {
  char text[32];
  snprintf(text, sizeof(text), "%gs", seconds);
  return text;
}
}  // namespace

int main(int argc, char** argv) {
  // Not a command for people: the process ballast puts between itself and each instance.
  if (argc > 1 && std::strcmp(argv[1], ballast::control::kTrackGuardCommand) == 0) {
    return ballast::control::run_track_guard(argc - 2, argv + 2);
  }
  if (argc > 1 && std::strcmp(argv[1], ballast::scale::kInstanceGuardCommand) == 0) {
    return ballast::scale::run_instance_guard(argc - 2, argv + 2);
  }
  CLI::App app{"ballast: an elastic HTTP load balancer"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "ballast 0.1.0");

  std::string run_config;
  auto* run = app.add_subcommand("run", "Run the load balancer");
  run->add_option("-c,--config", run_config, "Configuration file (YAML)")->required();
  bool verbose = false;
  run->add_flag("-v,--verbose", verbose, "Log debug messages");
  int takeover_fd = -1;
  run->add_option("--takeover-fd", takeover_fd,
                  "Internal: the socket on which the ballast being upgraded hands over")
      ->group("");

  std::string check_config;
  bool quiet = false;
  auto* check =
      app.add_subcommand("check", "Validate a configuration file without starting anything");
  check->add_option("-c,--config", check_config, "Configuration file (YAML)")->required();
  check->add_flag("-q,--quiet", quiet, "Print nothing when the file is valid");

  ballast::backend::BackendOptions backend_options;
  auto* backend =
      app.add_subcommand("backend", "Run a demo application instance (for tests and demos)");
  backend->add_option("--port", backend_options.port, "Port to listen on (0: any free port)")
      ->required();
  backend->add_option("--bind", backend_options.bind, "Address to listen on")
      ->capture_default_str();
  backend->add_option("--id", backend_options.id,
                      "Instance id for X-Ballast-Instance (default: the port)");
  backend->add_option("--threads", backend_options.threads, "Serving threads")
      ->capture_default_str();

  ballast::app::CtlOptions ctl_options;
  auto* ctl = app.add_subcommand("ctl", "Control a running ballast through its admin API");
  ctl->add_option("--admin", ctl_options.admin,
                  "Admin API address (default: $BALLAST_ADMIN or 127.0.0.1:9901)");
  ctl->add_option("--token", ctl_options.token, "Bearer token (default: $BALLAST_TOKEN)");
  ctl->add_flag("--json", ctl_options.json, "Print the API's JSON answer");
  ctl->add_option("--stat", ctl_options.stat,
                  "metrics: Average, Sum, Minimum, Maximum, "
                  "SampleCount or pNN")
      ->capture_default_str();
  ctl->add_option("--period", ctl_options.period, "metrics: seconds per datapoint (10s, 1m)")
      ->capture_default_str();
  ctl->add_option("--since", ctl_options.since, "metrics: how far back (15m, 1h)")
      ->capture_default_str();
  ctl->add_option("--iterations", ctl_options.iterations, "top: screens to draw (0: until Ctrl-C)")
      ->capture_default_str();
  ctl->add_option("--to", ctl_options.to, "db switchover: the member to promote");
  ctl->add_option(
      "action", ctl_options.args,
      "status | listeners | groups | targets GROUP | register GROUP ADDRESS [WEIGHT] "
      "| deregister GROUP ADDRESS | weight GROUP ADDRESS N | drain GROUP ADDRESS | "
      "undrain GROUP ADDRESS | reload | alarms [NAME] | metrics METRIC [DIM=VALUE...] | top | "
      "db [NAME] | db switchover NAME");

  ballast::app::ClusterCommandOptions cluster_options;
  auto* cluster_cmd = app.add_subcommand(
      "cluster", "The shared configuration of a cluster in etcd: import a file, export it");
  cluster_cmd->add_option("action", cluster_options.action, "import | export")->required();
  cluster_cmd->add_option("-c,--config", cluster_options.config,
                          "import: the shared configuration (listeners, target_groups, alarms, "
                          "autoscaling_groups)");
  cluster_cmd
      ->add_option("--etcd", cluster_options.etcd,
                   "etcd endpoints, http://HOST:PORT (comma-separated or repeated; default: the "
                   "node file's, else http://127.0.0.1:2379)")
      ->delimiter(',');
  cluster_cmd->add_option("--prefix", cluster_options.prefix,
                          "Key prefix (default: the node file's, else /ballast)");
  cluster_cmd->add_option("--node", cluster_options.node_config,
                          "A node's file: take etcd and the prefix from its cluster section");

  ballast::app::LoadCommandOptions load_options;
  auto* load = app.add_subcommand(
      "load",
      "Open-loop load generator: requests at a set arrival rate, latency measured from "
      "the intended send time");
  load->add_option("url", load_options.url, "http://HOST:PORT/PATH")->required();
  load->add_option("--profile", load_options.profile,
                   "constant, step, ramp, spike, sine or csv:FILE (lines SECONDS,RATE)")
      ->capture_default_str();
  load->add_option("--rate", load_options.rate, "Requests per second (the base rate)")
      ->capture_default_str();
  load->add_option("--to", load_options.to, "step: rate after --at; ramp: final rate; spike: peak");
  add_duration_option(load, "--at", load_options.at_s, "step, spike: time from the start");
  add_duration_option(load, "--spike-duration", load_options.spike_s, "spike: how long")
      ->default_str(seconds_text(load_options.spike_s));
  load->add_option("--amplitude", load_options.amplitude, "sine: rate amplitude");
  add_duration_option(load, "--period", load_options.period_s, "sine: the period")
      ->default_str(seconds_text(load_options.period_s));
  add_duration_option(load, "--duration", load_options.duration_s, "How long to send load")
      ->default_str(seconds_text(load_options.duration_s));
  load->add_option("--connections", load_options.connections,
                   "At most this many requests in flight; more wait, and their wait counts")
      ->capture_default_str();
  add_duration_option(load, "--timeout", load_options.timeout_s, "How long a request may take")
      ->default_str(seconds_text(load_options.timeout_s));
  load->add_flag("--json", load_options.json, "Print the summary as JSON");
  load->add_flag("-q,--quiet", load_options.quiet, "No progress line");

  CLI11_PARSE(app, argc, argv);
  if (verbose) ballast::core::set_log_level(ballast::core::LogLevel::kDebug);

  if (*run) return ballast::app::run_command(run_config, takeover_fd);
  if (*check) return ballast::app::check_command(check_config, quiet);
  if (*backend) return ballast::app::backend_command(backend_options);
  if (*ctl) return ballast::app::ctl_command(ctl_options);
  if (*load) return ballast::app::load_command(load_options);
  if (*cluster_cmd) {
    if (cluster_options.action == "import" && cluster_options.config.empty()) {
      fprintf(stderr, "cluster import: give the file with -c FILE\n");
      return 2;
    }
    return ballast::app::cluster_command(cluster_options);
  }
  return 2;
}
