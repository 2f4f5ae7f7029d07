// Autoscaling groups end to end: real `ballast backend` instances launched by ballast,
// driven by load, killed, and failing to start.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/http_client.h"
#include "support/load_loop.h"
#include "support/processes.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

using nlohmann::json;

// A listener in front of target group "app", owned by autoscaling group "web" whose
// instances are `ballast backend` processes; `group_extra` and `launch_extra` are YAML
// lines indented by four and six spaces.
std::string asg_config(
    const std::string& group_extra, const std::string& launch_extra = "",
    const std::string& command = "{ballast} backend --port {port} --id {instance_id}") {
  PortRange ports = free_port_range(41);
  std::string y =
      "workers: 1\nshutdown_timeout: 10s\n"
      "listeners:\n  - name: web\n    bind: 127.0.0.1:${PORT}\n"
      "    rules:\n      - forward: { target_group: app }\n"
      "target_groups:\n  - name: app\n    deregistration_delay: 5s\n"
      "    health_check: { path: /health, interval: 300ms, timeout: 250ms, healthy_threshold: 2, "
      "unhealthy_threshold: 2 }\n"
      "autoscaling_groups:\n  - name: web\n    target_group: app\n"
      "    zones: [a, b]\n    health_check_grace_period: 10s\n    instance_warmup: 1s\n" +
      group_extra + "    launch:\n      provider: process\n      command: \"" + command +
      "\"\n"
      "      ports: " +
      std::to_string(ports.first) + "-" + std::to_string(ports.last) +
      "\n"
      "      stop_timeout: 5s\n" +
      launch_extra;
  return y;
}

json group(const Ballast& lb) {
  auto r = admin_call(lb.admin_port(), "GET", "/api/v1/autoscaling-groups/web");
  json j = json::parse(r.body, nullptr, false);
  return j.is_discarded() ? json::object() : j;
}

int in_service(const Ballast& lb) {
  return group(lb).value("in_service", -1);
}

json activities(const Ballast& lb) {
  auto r = admin_call(lb.admin_port(), "GET", "/api/v1/autoscaling-groups/web/activities");
  json j = json::parse(r.body, nullptr, false);
  return j.is_discarded() ? json::array() : j["activities"];
}

// A child process of `parent`, or -1.
pid_t child_of(pid_t parent) {
  for (const auto& p : all_processes()) {
    if (p.parent == parent) return p.pid;
  }
  return -1;
}

// Stops ballast as an operator would (SIGTERM), so it stops its instances too.
void stop(Ballast& lb) {
  lb.process().signal(SIGTERM);
  EXPECT_EQ(lb.process().wait_exit(30000), 0) << lb.process().log();
}

TEST(AutoscalingTest, ASpikeScalesOutAndQuietScalesInWithoutAFailedRequest) {
  Ballast lb(asg_config(
      "    min_size: 1\n    max_size: 3\n    desired_capacity: 1\n"
      "    scale_in_stabilization: 3s\n"
      "    policies:\n      - { type: target_tracking, metric: request_count_per_target, "
      "target: 150, window: 2s }\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_TRUE(within(15, [&] { return in_service(lb) == 1; })) << lb.process().log();
  {
    // The spike: as fast as four clients go, far above 150 per instance.
    LoadLoop spike(lb.port(), 4);
    ASSERT_TRUE(within(30, [&] { return in_service(lb) == 3; })) << lb.process().log();
    ASSERT_TRUE(spike.wait_for_more(500));
    spike.stop();
    EXPECT_EQ(spike.failed(), 0) << spike.first_failure();
    EXPECT_EQ(spike.instances().size(), 3u) << "every instance took requests";
  }
  // Quiet (one slow client, well under 150/s): back to one instance, draining the others
  // while requests keep coming.
  LoadLoop quiet(lb.port(), 1, "/sleep?ms=20");
  ASSERT_TRUE(within(40, [&] {
    json g = group(lb);
    return g.value("in_service", -1) == 1 && g.value("terminating", -1) == 0;
  })) << lb.process().log();
  ASSERT_TRUE(quiet.wait_for_more(20));
  quiet.stop();
  EXPECT_EQ(quiet.failed(), 0) << quiet.first_failure();
  std::string causes;
  for (const auto& a : activities(lb)) causes += a["cause"].get<std::string>() + "\n";
  EXPECT_NE(causes.find("target tracking policy policy-1 (request_count_per_target"),
            std::string::npos)
      << causes;
  EXPECT_NE(causes.find("every target tracking policy agrees on scale-in"), std::string::npos)
      << causes;
  stop(lb);
}

TEST(AutoscalingTest, AKilledInstanceIsReplaced) {
  Ballast lb(asg_config("    min_size: 2\n    max_size: 2\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_TRUE(within(15, [&] { return in_service(lb) == 2; })) << lb.process().log();
  json victim = group(lb)["instances"][0];
  // provider_id "pid N" is the instance's guard; the application is its child.
  pid_t guard = std::stoi(victim["provider_id"].get<std::string>().substr(4));
  pid_t application = child_of(guard);
  ASSERT_GT(application, 0);
  ASSERT_EQ(::kill(application, SIGKILL), 0);
  ASSERT_TRUE(within(20, [&] {
    json g = group(lb);
    if (g.value("in_service", -1) != 2) return false;
    for (const auto& i : g["instances"]) {
      if (i["instance_id"] == victim["instance_id"] && i["state"] != "Terminated") return false;
    }
    return true;
  })) << lb.process().log();
  bool recorded = false;
  for (const auto& a : activities(lb)) {
    std::string cause = a["cause"];
    recorded = recorded || (a.value("instance_id", "") == victim["instance_id"] &&
                            cause.find("auto-healing") != std::string::npos &&
                            cause.find("killed by SIGKILL") != std::string::npos);
  }
  EXPECT_TRUE(recorded) << activities(lb).dump(2);
  stop(lb);
}

TEST(AutoscalingTest, InstancesDoNotOutliveAKilledBallast) {
  Ballast lb(asg_config("    min_size: 2\n    max_size: 2\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_TRUE(within(15, [&] { return in_service(lb) == 2; })) << lb.process().log();
  std::vector<uint16_t> ports;
  json g = group(lb);
  for (const auto& i : g["instances"]) {
    std::string address = i["address"];
    ports.push_back(static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1))));
  }
  ASSERT_EQ(ports.size(), 2u);
  for (uint16_t port : ports) ASSERT_TRUE(http_get(port, "/health")) << "instance on " << port;
  lb.process().signal(SIGKILL);  // no chance to stop anything itself
  lb.process().wait_exit(5000);
  // Each instance's guard stops it (SIGTERM, as ballast would) once ballast is gone.
  for (uint16_t port : ports) {
    EXPECT_TRUE(within(10, [&] { return !http_get(port, "/health"); }))
        << "the instance on port " << port << " still answers";
  }
}

TEST(AutoscalingTest, MinAndMaxAreRespected) {
  Ballast lb(asg_config(
      "    min_size: 2\n    max_size: 3\n    scale_in_stabilization: 1s\n"
      "    policies:\n      - { type: target_tracking, metric: request_count_per_target, "
      "target: 1, window: 1s }\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_TRUE(within(15, [&] { return in_service(lb) == 2; })) << "min_size, with no load";
  auto r = admin_call(lb.admin_port(), "PUT", "/api/v1/autoscaling-groups/web/desired",
                      R"({"desired_capacity": 5})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("outside min_size 2 .. max_size 3"), std::string::npos) << r.body;
  {
    LoadLoop load(lb.port(), 2);
    ASSERT_TRUE(within(20, [&] { return in_service(lb) == 3; })) << lb.process().log();
    ASSERT_TRUE(load.wait_for_more(2000));
    EXPECT_EQ(group(lb)["desired_capacity"], 3) << "a load far above target stops at max_size";
    load.stop();
  }
  ASSERT_TRUE(within(20, [&] { return in_service(lb) == 2; }));
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(group(lb)["desired_capacity"], 2) << "no load: down to min_size, not below";
  stop(lb);
}

TEST(AutoscalingTest, ScaleFromTheCommandLine) {
  Ballast lb(asg_config("    min_size: 1\n    max_size: 4\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_TRUE(within(15, [&] { return in_service(lb) == 1; }));
  std::string admin = "--admin=" + loopback(lb.admin_port());
  std::string log = make_temp_dir() + "/ctl.log";
  Process ctl({BALLAST_BINARY, "ctl", admin, "scale", "web", "3"}, log);
  ASSERT_EQ(ctl.wait_exit(10000), 0) << ctl.log();
  ASSERT_TRUE(within(20, [&] { return in_service(lb) == 3; })) << lb.process().log();
  Process bad({BALLAST_BINARY, "ctl", admin, "scale", "web", "9"}, log + "2");
  EXPECT_EQ(bad.wait_exit(10000), 1);
  EXPECT_NE(bad.log().find("outside min_size 1 .. max_size 4"), std::string::npos) << bad.log();
  Process list({BALLAST_BINARY, "ctl", admin, "activities", "web"}, log + "3");
  ASSERT_EQ(list.wait_exit(10000), 0);
  EXPECT_NE(list.log().find("set through the API: desired 1 → 3"), std::string::npos) << list.log();
  stop(lb);
}

TEST(AutoscalingTest, ABadLaunchCommandBacksOff) {
  Ballast lb(asg_config(
      "    min_size: 2\n    max_size: 2\n    launch_backoff: { initial: 500ms, max: 4s }\n", "",
      "exit 3"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_TRUE(within(10, [&] { return !group(lb)["launch_problem"].is_null(); }))
      << lb.process().log();
  std::this_thread::sleep_for(std::chrono::seconds(6));
  json g = group(lb);
  std::string problem = g["launch_problem"];
  EXPECT_NE(problem.find("exited with status 3"), std::string::npos) << problem;
  EXPECT_NE(problem.find("in a row"), std::string::npos) << problem;
  int failed = 0;
  for (const auto& a : activities(lb)) failed += a["status"] == "Failed";
  // Two at first, then one probe each after 0.5, 1, 2, 4 s...: a handful in 6 s, not a storm.
  EXPECT_GE(failed, 3);
  EXPECT_LE(failed, 7);
  EXPECT_EQ(g["in_service"], 0);
  stop(lb);
}

TEST(AutoscalingTest, ARefreshAfterAReloadFailsNoRequest) {
  std::string group_part =
      "    min_size: 2\n    max_size: 4\n"
      "    instance_refresh: { min_healthy_percentage: 50 }\n";
  std::string first =
      asg_config(group_part, "", "{ballast} backend --port {port} --id v1-{instance_id}");
  Ballast lb(first);
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_TRUE(within(15, [&] { return in_service(lb) == 2; }));
  LoadLoop load(lb.port(), 2, "/sleep?ms=2");
  ASSERT_TRUE(load.wait_for_more(100));
  // The same file with a new launch command: a new launch template.
  lb.rewrite_config(replace_all(first, "--id v1-", "--id v2-"));
  ASSERT_EQ(admin_call(lb.admin_port(), "POST", "/api/v1/reload").status, 200);
  ASSERT_TRUE(within(60, [&] {
    json g = group(lb);
    return !g["instance_refresh"].is_null() && g["instance_refresh"]["status"] == "Successful" &&
           g.value("in_service", -1) == 2 && g.value("terminating", -1) == 0;
  })) << lb.process().log();
  ASSERT_TRUE(load.wait_for_more(200));
  load.stop();
  EXPECT_EQ(load.failed(), 0) << load.first_failure();
  for (const auto& [instance, n] : instances_seen(lb.port(), 20)) {
    EXPECT_EQ(instance.rfind("v2-", 0), 0u) << instance << " is from the old template";
  }
  EXPECT_EQ(group(lb)["instance_refresh"]["percentage_complete"], 100);
  stop(lb);
}

TEST(AutoscalingTest, LifecycleHooksRunAndCanAbandonALaunch) {
  std::string dir = make_temp_dir();
  Ballast lb(asg_config(
      "    min_size: 1\n    max_size: 2\n"
      "    lifecycle_hooks:\n"
      "      - { name: note-launch, transition: launching, command: \"echo $BALLAST_ADDRESS >> " +
      dir +
      "/launched\" }\n"
      "      - { name: note-stop, transition: terminating, command: \"echo $BALLAST_INSTANCE_ID "
      ">> " +
      dir + "/stopped\" }\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_TRUE(within(15, [&] { return in_service(lb) == 1; })) << lb.process().log();
  std::string address = group(lb)["instances"][0]["address"];
  std::string id = group(lb)["instances"][0]["instance_id"];
  EXPECT_EQ(read_file(dir + "/launched"), address + "\n");
  ASSERT_EQ(admin_call(lb.admin_port(), "PUT", "/api/v1/autoscaling-groups/web/desired",
                       R"({"desired_capacity": 2})")
                .status,
            200);
  ASSERT_TRUE(within(15, [&] { return in_service(lb) == 2; }));
  // Protect the second; scale-in must take the first, and its terminating hook runs.
  std::string second;
  json both = group(lb);
  for (const auto& i : both["instances"]) {
    if (i["instance_id"] != id) second = i["instance_id"];
  }
  auto protect = admin_call(lb.admin_port(), "POST",
                            "/api/v1/autoscaling-groups/web/instances/" + second + "/protect");
  ASSERT_EQ(protect.status, 200) << second << ": " << protect.body << group(lb).dump(2);
  ASSERT_EQ(admin_call(lb.admin_port(), "PUT", "/api/v1/autoscaling-groups/web/desired",
                       R"({"desired_capacity": 1})")
                .status,
            200);
  ASSERT_TRUE(within(20, [&] { return read_file(dir + "/stopped") == id + "\n"; }))
      << lb.process().log();
  stop(lb);

  // A launching hook that fails abandons the launch.
  Ballast bad(asg_config(
      "    min_size: 1\n    max_size: 1\n    launch_backoff: { initial: 5s }\n"
      "    lifecycle_hooks: [{ name: refuse, transition: launching, command: \"exit 1\" }]\n"));
  ASSERT_TRUE(bad.ready());
  ASSERT_TRUE(within(15, [&] { return !group(bad)["launch_problem"].is_null(); }));
  std::string problem = group(bad)["launch_problem"];
  EXPECT_NE(problem.find("lifecycle hook \"refuse\" exited with status 1"), std::string::npos)
      << problem;
  stop(bad);
}

TEST(AutoscalingTest, TheExecProviderLaunchesThroughAScript) {
  std::string script =
      std::string(BALLAST_SOURCE_DIR) + "/examples/exec-provider/local-processes.py";
  PortRange ports = free_port_range(21);
  std::string state = make_temp_dir();
  std::string y =
      "workers: 1\nlisteners:\n  - name: web\n    bind: 127.0.0.1:${PORT}\n"
      "    rules:\n      - forward: { target_group: app }\n"
      "target_groups:\n  - name: app\n    deregistration_delay: 1s\n"
      "    health_check: { path: /health, interval: 300ms, timeout: 250ms, healthy_threshold: 2 }\n"
      "autoscaling_groups:\n  - name: web\n    target_group: app\n    min_size: 1\n"
      "    max_size: 3\n    desired_capacity: 2\n"
      "    launch:\n      provider: exec\n"
      "      launch: " +
      script + "\n      terminate: " + script + "\n      describe: " + script +
      "\n      describe_interval: 1s\n"
      "      environment: { BALLAST_BIN: " +
      std::string(BALLAST_BINARY) + ", STATE_DIR: " + state + ", PORT_FIRST: \"" +
      std::to_string(ports.first) + "\", PORT_LAST: \"" + std::to_string(ports.last) + "\" }\n";
  Ballast lb(y);
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_TRUE(within(20, [&] { return in_service(lb) == 2; })) << lb.process().log();
  EXPECT_EQ(instances_seen(lb.port(), 20).size(), 2u) << "both instances serve";
  // An instance that dies is noticed by describe and replaced.
  json victim = group(lb)["instances"][0];
  ASSERT_EQ(::kill(std::stoi(victim["provider_id"].get<std::string>()), SIGKILL), 0);
  ASSERT_TRUE(within(20, [&] {
    json g = group(lb);
    for (const auto& i : g["instances"]) {
      if (i["instance_id"] == victim["instance_id"] && i["state"] != "Terminated") return false;
    }
    return g.value("in_service", -1) == 2;
  })) << lb.process().log();
  // Scale-in goes through the terminate script.
  ASSERT_EQ(admin_call(lb.admin_port(), "PUT", "/api/v1/autoscaling-groups/web/desired",
                       R"({"desired_capacity": 1})")
                .status,
            200);
  ASSERT_TRUE(within(20, [&] {
    json g = group(lb);
    return g.value("in_service", -1) == 1 && g.value("terminating", -1) == 0;
  })) << lb.process().log();
  stop(lb);
}

}  // namespace
}  // namespace ballast::test
