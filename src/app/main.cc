// ballast: one binary, several subcommands (run, check, backend, ctl, load).
#include <CLI/CLI.hpp>
#include <cstring>

#include "app/commands.h"
#include "core/log.h"
#include "scale/instance_guard.h"

int main(int argc, char** argv) {
  // Not a command for people: the process ballast puts between itself and each instance.
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
  ctl->add_option(
      "action", ctl_options.args,
      "status | listeners | groups | targets GROUP | register GROUP ADDRESS [WEIGHT] "
      "| deregister GROUP ADDRESS | weight GROUP ADDRESS N | drain GROUP ADDRESS | "
      "undrain GROUP ADDRESS | reload | alarms [NAME] | metrics METRIC [DIM=VALUE...] | top");

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
  load->add_option("--at", load_options.at_s, "step, spike: seconds from the start");
  load->add_option("--spike-duration", load_options.spike_s, "spike: seconds")
      ->capture_default_str();
  load->add_option("--amplitude", load_options.amplitude, "sine: rate amplitude");
  load->add_option("--period", load_options.period_s, "sine: seconds")->capture_default_str();
  load->add_option("--duration", load_options.duration_s, "Seconds of load")->capture_default_str();
  load->add_option("--connections", load_options.connections,
                   "At most this many requests in flight; more wait, and their wait counts")
      ->capture_default_str();
  load->add_option("--timeout", load_options.timeout_s, "Seconds a request may take")
      ->capture_default_str();
  load->add_flag("--json", load_options.json, "Print the summary as JSON");
  load->add_flag("-q,--quiet", load_options.quiet, "No progress line");

  CLI11_PARSE(app, argc, argv);
  if (verbose) ballast::core::set_log_level(ballast::core::LogLevel::kDebug);

  if (*run) return ballast::app::run_command(run_config);
  if (*check) return ballast::app::check_command(check_config, quiet);
  if (*backend) return ballast::app::backend_command(backend_options);
  if (*ctl) return ballast::app::ctl_command(ctl_options);
  if (*load) return ballast::app::load_command(load_options);
  return 2;
}
