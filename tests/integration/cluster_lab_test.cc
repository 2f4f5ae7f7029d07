// The cluster's failure drills on one topology, as a zone-redundant deployment runs it: three
// etcd members; three ballast nodes in two zones (lb-1 and lb-3 in zone a, lb-2 in zone b),
// each in a network namespace of its own; the autoscaler's instances in both zones (the
// example exec provider's, each zone's in a namespace of its own); and keepalived moving a
// virtual IP between lb-1 and lb-2. A client that retries idempotent requests, as browsers
// and HTTP libraries do, asks through the VIP while:
//   1. the node that holds the VIP, also the autoscaler's leader, is killed (kill -9) while
//      a scale-out is under way;
//   2. it comes back, takes the VIP back, and is drained on purpose (SIGTERM);
//   3. the new leader is cut off from etcd;
//   4. zone a's links are cut;
//   5. etcd stops entirely, and a node restarts.
// The times are printed (`make bench-cluster` collects them), not asserted against the clock.
// What is asserted: the client lost no request, the order of events, and the end states.
#include "support/cluster_lab.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "support/launch_journal.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kLabSubnet = 213;
constexpr const char* kVip = "10.213.0.100";
constexpr int kZoneAHost = 31;  // the address byte of zone a's instances
constexpr int kZoneBHost = 32;

// Everything the nodes share, imported into etcd: one listener on every node, ballast's own
// retries (a 500 ms timeout answers 504, retried twice), and four instances across both
// zones, launched by the example exec provider into each zone's namespace (each launch
// answers 1.5 s after its backend started, like a slow cloud API).
std::string shared_config(ClusterLab& lab, const std::string& platform,
                          const std::string& zone_a_ns, const std::string& zone_b_ns) {
  std::string script =
      std::string(BALLAST_SOURCE_DIR) + "/examples/exec-provider/local-processes.py";
  return "listeners:\n  - name: web\n    bind: 0.0.0.0:8080\n"
         "    rules: [ { forward: { target_group: app } } ]\n"
         "target_groups:\n  - name: app\n    deregistration_delay: 1s\n"
         "    request_timeout: 500ms\n    retries: 2\n    retry_on_status: [504]\n"
         "    health_check: { path: /health, interval: 300ms, timeout: 250ms, "
         "healthy_threshold: 2, unhealthy_threshold: 2 }\n"
         "autoscaling_groups:\n  - name: web\n    target_group: app\n"
         "    min_size: 4\n    max_size: 8\n    desired_capacity: 4\n    zones: [a, b]\n"
         "    health_check_grace_period: 5s\n    launch:\n      provider: exec\n"
         "      launch: " +
         script + "\n      terminate: " + script + "\n      describe: " + script +
         "\n      describe_interval: 1s\n      environment: { BALLAST_BIN: " + BALLAST_BINARY +
         ", STATE_DIR: " + platform +
         ", PORT_FIRST: \"9300\", PORT_LAST: \"9330\", LAUNCH_DELAY: \"1.5\", " +
         "ZONE_a_NETNS: " + zone_a_ns + ", ZONE_a_ADDRESS: " + lab.net().address(kZoneAHost) +
         ", ZONE_b_NETNS: " + zone_b_ns + ", ZONE_b_ADDRESS: " + lab.net().address(kZoneBHost) +
         " }\n";
}

std::map<std::string, int> in_service_by_zone(const json& group) {
  std::map<std::string, int> zones;
  if (!group.contains("instances")) return zones;
  for (const auto& i : group["instances"]) {
    if (i.value("state", "") == "InService") ++zones[i.value("zone", "")];
  }
  return zones;
}

// The group's state in etcd, as the leader last wrote it.
json recorded_state(ClusterLab& lab) {
  auto v = lab.etcd().get("/ballast/autoscaling/web");
  json j = v ? json::parse(*v, nullptr, false) : json();
  return j.is_object() ? j : json::object();
}

// Runs the retrying client in namespace `ns` against the VIP for `seconds`, calling `during`
// once it is under way; its summary.
template <typename Fn>
json drive(const std::string& ns, double seconds, Fn during) {
  std::string dir = make_temp_dir();
  Process client(NetworkLab::in(ns, {"/usr/bin/python3",
                                     std::string(BALLAST_SOURCE_DIR) +
                                         "/tests/integration/peers/vip_client.py",
                                     kVip, "8080", std::to_string(seconds), "3000"}),
                 dir + "/client.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // under way: a few dozen asked
  during();
  client.wait_exit(static_cast<int>(seconds * 1000) + 15000);
  std::string out = client.log();
  json j = json::parse(out.substr(0, out.find('\n')), nullptr, false);
  return j.is_object() ? j : json{{"error", out}};
}

// The node of `candidates` that leads now, or nullptr.
LabNode* leader_of(const std::vector<LabNode*>& candidates) {
  for (LabNode* n : candidates) {
    if (n->leads()) return n;
  }
  return nullptr;
}

TEST(ClusterLabTest, ThreeNodesInTwoZonesBehindAVipLoseNoRequestThroughEveryDrill) {
  std::string why;
  if (!ClusterLab::possible(&why)) GTEST_SKIP() << "skipped: " << why;
  if (!ClusterLab::keepalived_installed()) {
    GTEST_SKIP() << "keepalived is not installed (scripts/install-deps.sh installs it)";
  }
  ClusterLab lab(kLabSubnet, 3);
  NetworkLab& net = lab.net();
  ASSERT_TRUE(lab.etcd_healthy()) << net.error();
  std::string zone_a = net.add_host("za", kZoneAHost);
  std::string zone_b = net.add_host("zb", kZoneBHost);
  std::string client = net.add_host("c", 21);
  ASSERT_TRUE(net.ok()) << net.error();
  std::string platform = lab.dir() + "/platform";
  std::filesystem::create_directories(platform);
  ASSERT_EQ(lab.import(shared_config(lab, platform, zone_a, zone_b)), "");

  ASSERT_TRUE(lab.add_node(1, "a")) << net.error();
  LabNode& lb1 = lab.node(1);
  ASSERT_TRUE(within(15, [&] { return lb1.leads(); })) << lb1.process().log();
  ASSERT_TRUE(lab.add_node(2, "b") && lab.add_node(3, "a")) << net.error();
  LabNode& lb2 = lab.node(2);
  LabNode& lb3 = lab.node(3);
  ASSERT_TRUE(within(40,
                     [&] {
                       return in_service_by_zone(lb1.group("web")) ==
                              std::map<std::string, int>{{"a", 2}, {"b", 2}};
                     }))
      << lb1.group("web") << lb1.process().log();
  ASSERT_TRUE(within(15, [&] {
    return lb3.cluster()["nodes"].size() == 3 && status_from(client, net.address(12)) == "200" &&
           status_from(client, net.address(13)) == "200" && lb1.track() == "0\n" &&
           lb2.track() == "0\n";
  })) << lb3.cluster();
  lb1.start_keepalived(kVip, 200);
  lb2.start_keepalived(kVip, 150);
  ASSERT_TRUE(within(10, [&] { return lb1.holds(kVip) && !lb2.holds(kVip); }));
  std::set<std::string> fleet = in_service_ids(lb1.group("web"));

  // 1. A scale-out to six, its two launches recorded in etcd while the platform is still
  // answering them; then kill -9 of the node that holds the VIP and leads. Its guard writes
  // the track file at once, the VIP moves, and another node leads, adopts the four running
  // instances, and asks again for the two launches: each backend is started once.
  Clock::time_point killed{}, led{};
  LabNode* successor = nullptr;
  json crash = drive(client, 5, [&] {
    EXPECT_EQ(
        lb1.send("PUT", "/api/v1/autoscaling-groups/web/desired", R"({"desired_capacity": 6})"),
        "200");
    EXPECT_TRUE(within(10, [&] {
      json state = recorded_state(lab);
      int launching = 0;
      for (const auto& i : state.value("instances", json::array()))
        launching += i.value("intent", "") == "launch";
      return launching == 2;
    })) << recorded_state(lab);
    killed = Clock::now();
    lb1.process().signal(SIGKILL);
    within(10, [&] {
      successor = leader_of({&lb2, &lb3});
      led = Clock::now();
      return successor != nullptr;
    });
  });
  printf("[ vip      ] kill -9 of the VIP's node: %s\n", crash.dump().c_str());
  EXPECT_EQ(crash.value("failed_requests", -1), 0) << crash;
  EXPECT_GT(crash.value("requests", 0), 50) << crash;
  EXPECT_TRUE(lb2.holds(kVip));
  EXPECT_EQ(lb1.track(), "1\n");
  ASSERT_NE(successor, nullptr) << "no node led after the leader was killed";
  printf("[ lab      ] %s led %lld ms after the leader was killed (lease 5 s)\n",
         successor->name().c_str(), ms_since(killed, led));
  EXPECT_TRUE(within(30, [&] {
    json group = successor->group("web");
    std::set<std::string> now = in_service_ids(group);
    return now.size() == 6 && std::includes(now.begin(), now.end(), fleet.begin(), fleet.end());
  })) << successor->group("web");
  // None launched twice, none leaked: every backend started is one of the six.
  LaunchJournal started = read_launch_journal(platform);
  std::set<std::string> serving = in_service_ids(successor->group("web"));
  EXPECT_EQ(started.pid.size(), 6u) << read_file(platform + "/launches.log");
  for (const auto& [id, times] : started.times) {
    EXPECT_EQ(times, 1) << id << " was started " << times << " times";
    EXPECT_EQ(serving.count(id), 1u) << id << " runs outside the group";
  }

  // 2. lb-1 comes back, follows, and takes its VIP back (it has the higher priority); then a
  // planned drain: the VIP moves before the node stops serving.
  lb1.start();
  ASSERT_TRUE(within(15, [&] { return lb1.holds(kVip) && !lb2.holds(kVip); }))
      << lb1.process().log();
  EXPECT_FALSE(lb1.leads());
  json drain = drive(client, 3, [&] { lb1.process().signal(SIGTERM); });
  printf("[ vip      ] planned drain of the VIP's node: %s\n", drain.dump().c_str());
  EXPECT_EQ(drain.value("failed_requests", -1), 0) << drain;
  EXPECT_TRUE(lb2.holds(kVip));
  EXPECT_EQ(lb1.process().wait_exit(10000), 0) << lb1.process().log();

  // 3. The leader is cut off from etcd alone (clients and instances still reach it): it
  // serves on, stops leading before its lease can have ended, and only then does the other
  // node lead. Never two leaders.
  LabNode* cut = leader_of({&lb2, &lb3});
  ASSERT_NE(cut, nullptr);
  LabNode* other = cut == &lb2 ? &lb3 : &lb2;
  ASSERT_TRUE(net.block(cut->host(), net.address(2), true)) << net.error();
  Clock::time_point blocked = Clock::now(), stopped{}, taken{};
  for (int i = 0; i < 400 && (stopped == Clock::time_point{} || taken == Clock::time_point{});
       ++i) {
    if (stopped == Clock::time_point{} && !cut->leads()) stopped = Clock::now();
    if (taken == Clock::time_point{} && other->leads()) taken = Clock::now();
  }
  ASSERT_NE(stopped, Clock::time_point{}) << cut->name() << " never stopped leading";
  ASSERT_NE(taken, Clock::time_point{}) << other->name() << " never took over";
  printf(
      "[ drill    ] cut off from etcd: the leader stopped leading after %lld ms, the next led "
      "after %lld ms (lease 5 s)\n",
      ms_since(blocked, stopped), ms_since(blocked, taken));
  EXPECT_LT(stopped, taken);
  EXPECT_EQ(status_from(client, net.address(10 + cut->n())), "200");
  EXPECT_EQ(cut->cluster()["etcd"].value("reachable", true), false);
  ASSERT_TRUE(net.block(cut->host(), net.address(2), false)) << net.error();
  EXPECT_TRUE(within(15, [&] {
    json view = cut->cluster();
    return view.contains("etcd") && view["etcd"].value("reachable", false) &&
           view["etcd"].value("watching", false) &&
           view["leader"].value("node", "") == other->name();
  })) << cut->cluster();

  // 4. Zone a is cut off, lb-3 and the instances there with it, and launches into it fail,
  // while the client asks through the VIP (now on lb-2, in zone b). Health checks take zone
  // a's targets out, retries hide the requests that were on them, and the autoscaler (lb-2,
  // if lb-3 led) brings the capacity back in zone b.
  write_file(platform + "/zone-a.down", "");
  Clock::time_point zone_cut{}, restored{};
  json outage = drive(client, 6, [&] {
    zone_cut = Clock::now();
    EXPECT_TRUE(net.set_link("za", false) && net.set_link("n3", false)) << net.error();
  });
  bool back = within(60, [&] {
    restored = Clock::now();
    return in_service_by_zone(lb2.group("web")) == std::map<std::string, int>{{"b", 6}};
  });
  json group = lb2.group("web");
  printf("[ drill    ] zone a cut under load: %s; capacity back in zone b after %lld ms\n",
         outage.dump().c_str(), ms_since(zone_cut, restored));
  EXPECT_EQ(outage.value("failed_requests", -1), 0) << outage;
  EXPECT_TRUE(back) << group << lb2.process().log();
  EXPECT_TRUE(lb2.leads());
  ASSERT_FALSE(group["impaired_zones"].empty()) << group;
  EXPECT_EQ(group["impaired_zones"][0]["zone"], "a");
  std::string shown;
  NetworkLab::shell_in(
      lb2.ns(), std::string(BALLAST_BINARY) + " ctl --admin=127.0.0.1:9901 instances web", &shown);
  EXPECT_NE(shown.find("zone a avoided for"), std::string::npos) << shown;

  // 5. etcd stops entirely, and lb-2 restarts during the outage: it comes up from its
  // snapshot and serves the instances it knew.
  lab.etcd().stop_all();
  lb2.process().signal(SIGTERM);
  EXPECT_EQ(lb2.process().wait_exit(10000), 0) << lb2.process().log();
  lb2.start();
  EXPECT_TRUE(within(15, [&] { return status_from(client, kVip) == "200"; }))
      << lb2.process().log();
  json view = lb2.cluster();
  EXPECT_EQ(view["etcd"].value("reachable", true), false) << view;
  EXPECT_GT(view["config"].value("revision", 0), 0) << view;
}

}  // namespace
}  // namespace ballast::test
