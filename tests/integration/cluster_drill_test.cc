// Which node's health checks count: the leader alone cut off from its instances (a blackhole
// route in its own namespace) replaces none of them; an instance that fails every node's
// checks is replaced. The other drills run on one topology in cluster_lab_test.cc.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "support/cluster_lab.h"
#include "support/ports.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

using nlohmann::json;

constexpr int kDrillSubnet = 214;  // distinct from cluster_lab_test.cc's

// The leader's instances run in the switch namespace (reached by every node over the
// bridge). Cut off from them alone, the leader's checks fail them all, while the other two
// nodes' pass: nothing is replaced. An instance that fails everywhere is replaced.
TEST(ClusterDrillTest, AnInstanceIsReplacedOnlyWhenMostNodesSeeItFailing) {
  std::string why;
  if (!ClusterLab::possible(&why)) GTEST_SKIP() << "skipped: " << why;
  ClusterLab lab(kDrillSubnet, 1);
  NetworkLab& net = lab.net();
  ASSERT_TRUE(lab.etcd_healthy()) << net.error();
  PortRange ports = free_port_range(20);
  std::string failed = lab.import(
      "listeners:\n  - name: web\n    bind: 0.0.0.0:8080\n"
      "    rules: [ { forward: { target_group: app } } ]\n"
      "target_groups:\n  - name: app\n    deregistration_delay: 1s\n"
      "    health_check: { path: /health, interval: 300ms, timeout: 250ms, "
      "healthy_threshold: 2, unhealthy_threshold: 2 }\n"
      "autoscaling_groups:\n  - name: web\n    target_group: app\n    min_size: 2\n"
      "    max_size: 4\n    desired_capacity: 2\n    health_check_grace_period: 1s\n"
      "    launch:\n      provider: process\n      host: " +
      net.address(1) + "\n      command: \"/usr/sbin/ip netns exec " + net.switch_namespace() +
      " {ballast} backend --bind " + net.address(1) +
      " --port {port} --id {instance_id}\"\n      ports: " + std::to_string(ports.first) + "-" +
      std::to_string(ports.last) + "\n      stop_timeout: 2s\n");
  ASSERT_EQ(failed, "");
  ASSERT_TRUE(lab.add_node(1, "a")) << net.error();
  LabNode& leader = lab.node(1);
  ASSERT_TRUE(within(15, [&] { return leader.leads(); })) << leader.process().log();
  ASSERT_TRUE(lab.add_node(2, "b") && lab.add_node(3, "a")) << net.error();
  std::vector<LabNode*> nodes = {&leader, &lab.node(2), &lab.node(3)};
  std::string out;
  ASSERT_TRUE(within(30, [&] { return in_service_ids(leader.group("web")).size() == 2; }))
      << leader.group("web") << leader.process().log();
  ASSERT_TRUE(within(10, [&] { return lab.node(3).cluster()["nodes"].size() == 3; }));
  std::set<std::string> fleet = in_service_ids(leader.group("web"));
  // Every node's checks pass them first (their published views say nothing is failing).
  ASSERT_TRUE(within(15,
                     [&] {
                       for (LabNode* n : nodes) {
                         if (n->get("/api/v1/target-groups/app").value("healthy_count", 0) != 2)
                           return false;
                       }
                       return true;
                     }))
      << nodes[0]->get("/api/v1/target-groups/app") << nodes[1]->get("/api/v1/target-groups/app")
      << nodes[2]->get("/api/v1/target-groups/app") << nodes[1]->process().log();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the views reach etcd

  // The leader alone loses its way to the instances: they fail its checks only.
  ASSERT_TRUE(net.block(leader.host(), net.address(1), true)) << net.error();
  ASSERT_TRUE(within(10, [&] {
    return leader.process().log().find("fails this node's health checks but not most nodes'") !=
           std::string::npos;
  })) << leader.process().log();
  std::this_thread::sleep_for(std::chrono::seconds(3));  // time enough to have replaced them
  ASSERT_EQ(in_service_ids(leader.group("web")), fleet)
      << leader.group("web") << leader.process().log();
  ASSERT_TRUE(net.block(leader.host(), net.address(1), false)) << net.error();

  // An instance that fails everyone's checks is replaced.
  json victim = leader.group("web")["instances"][0];
  std::string address = victim.value("address", "");
  ASSERT_EQ(
      NetworkLab::shell_in(
          net.switch_namespace(),
          "/usr/bin/curl -s -X POST -m 2 'http://" + address + "/control/health?ok=false'", &out),
      0)
      << out;
  std::string id = victim.value("instance_id", "");
  EXPECT_TRUE(within(30, [&] {
    std::set<std::string> now = in_service_ids(leader.group("web"));
    return now.size() == 2 && now.count(id) == 0;
  })) << leader.group("web");
}

}  // namespace
}  // namespace ballast::test
