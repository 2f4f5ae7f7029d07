// A node of a cluster cut off from etcd by the network (a blackhole route in its own
// namespace; clients and targets still reach it): it keeps serving, stops leading the
// autoscaler before its lease can have expired, and only then does another node lead. Real
// etcd (three members) runs in the lab's switch namespace.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "support/etcd_server.h"
#include "support/network_lab.h"
#include "support/ports.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kSubnet = 214;

json cluster_of(const std::string& ns) {
  std::string out;
  NetworkLab::shell_in(ns, "/usr/bin/curl -s -m 1 http://127.0.0.1:9901/api/v1/cluster", &out);
  json j = json::parse(out, nullptr, false);
  return j.is_object() ? j : json::object();
}

bool leads(const std::string& ns) {
  json c = cluster_of(ns);
  return c.contains("leader") && c["leader"].value("self", false);
}

// The answer's status of GET / from `from` to `address`:8080 ("000" when none).
std::string status_from(const std::string& from, const std::string& address) {
  std::string out;
  NetworkLab::shell_in(
      from, "/usr/bin/curl -s -o /dev/null -w '%{http_code}' -m 2 http://" + address + ":8080/",
      &out);
  return out;
}

// A lab for cluster drills: etcd (`members`) on 10.X.0.2 in the switch namespace, a shared
// configuration imported into it, and ballast nodes lb-1, lb-2... each in a namespace of its
// own (10.X.0.11, .12...), lb-1 started first so that it leads.
class DrillCluster {
 public:
  DrillCluster(int subnet, int members) : lab_(subnet), dir_(make_temp_dir()) {
    if (!lab_.ok() || !lab_.add_switch_address(2)) return;
    etcd_ = std::make_unique<EtcdCluster>(members, lab_.address(2),
                                          NetworkLab::in(lab_.switch_namespace(), {}));
  }
  ~DrillCluster() {
    for (auto& n : nodes_) n->signal(SIGTERM), n->wait_exit(5000);
  }
  NetworkLab& lab() { return lab_; }
  const std::string& dir() const { return dir_; }
  bool etcd_healthy() { return etcd_ && etcd_->healthy(); }
  // `ballast cluster import` of `yaml`, run in the switch namespace; its output on failure.
  std::string import(const std::string& yaml) {
    write_file(dir_ + "/shared.yaml", yaml);
    std::string out;
    int status = NetworkLab::shell_in(lab_.switch_namespace(),
                                      std::string(BALLAST_BINARY) + " cluster import -c " + dir_ +
                                          "/shared.yaml --etcd " + etcd_->endpoints(),
                                      &out);
    return status == 0 ? "" : out;
  }
  // Starts `count` nodes; false when lb-1 did not come to lead.
  bool start_nodes(int count) {
    for (int n = 1; n <= count; ++n) {
      ns_.push_back(lab_.add_host("n" + std::to_string(n), 10 + n));
      std::string file = dir_ + "/node-" + std::to_string(n) + ".yaml";
      write_file(file,
                 "workers: 1\nshutdown_timeout: 2s\nadmin: { bind: 127.0.0.1:9901 }\n"
                 "cluster:\n  node: lb-" +
                     std::to_string(n) + "\n  zone: " + (n % 2 == 1 ? "a" : "b") +
                     "\n  state_dir: " + dir_ + "/state-" + std::to_string(n) +
                     "\n  etcd: { endpoints: " + etcd_->endpoints_yaml() + ", timeout: 1s }\n");
      nodes_.push_back(
          std::make_unique<Process>(NetworkLab::in(ns_.back(), {BALLAST_BINARY, "run", "-c", file}),
                                    dir_ + "/lb-" + std::to_string(n) + ".log"));
      if (n == 1 && !within(15, [&] { return leads(ns_[0]); })) return false;
    }
    return lab_.ok();
  }
  const std::string& ns(int n) const { return ns_[static_cast<size_t>(n - 1)]; }
  Process& node(int n) { return *nodes_[static_cast<size_t>(n - 1)]; }

 private:
  NetworkLab lab_;
  std::string dir_;
  std::unique_ptr<EtcdCluster> etcd_;
  std::vector<std::string> ns_;
  std::vector<std::unique_ptr<Process>> nodes_;
};

bool drills_possible(std::string* why) {
  if (!NetworkLab::available(why)) return false;
  if (!EtcdCluster::installed()) {
    *why = "etcd is not installed (scripts/install-deps.sh installs etcd-server)";
    return false;
  }
  return true;
}

TEST(ClusterDrillTest, ANodeCutOffFromEtcdServesOnAndStopsLeadingBeforeAnotherLeads) {
  std::string why;
  if (!drills_possible(&why)) GTEST_SKIP() << "skipped: " << why;
  DrillCluster c(kSubnet, 3);
  NetworkLab& lab = c.lab();
  ASSERT_TRUE(c.etcd_healthy()) << lab.error();
  Process app(NetworkLab::in(lab.switch_namespace(), {BALLAST_BINARY, "backend", "--port", "8081",
                                                      "--bind", lab.address(1), "--id", "app"}),
              c.dir() + "/app.log");
  std::string failed = c.import(
      "listeners:\n  - name: web\n    bind: 0.0.0.0:8080\n"
      "    rules: [ { forward: { target_group: app } } ]\n"
      "target_groups:\n  - name: app\n    targets: [ { address: " +
      lab.address(1) + ":8081 } ]\n");
  ASSERT_EQ(failed, "");
  ASSERT_TRUE(c.start_nodes(2)) << lab.error() << c.node(1).log();
  std::vector<std::string> ns = {c.ns(1), c.ns(2)};
  std::string client = lab.add_host("c", 21);
  ASSERT_TRUE(lab.ok()) << lab.error();
  ASSERT_TRUE(within(15, [&] { return cluster_of(ns[1])["nodes"].size() == 2; }));
  EXPECT_EQ(status_from(client, lab.address(11)), "200");

  // Cut lb-1 (the leader) off from etcd only.
  ASSERT_TRUE(lab.block("n1", lab.address(2), true)) << lab.error();
  auto cut = Clock::now();
  Clock::time_point stopped{}, taken{};
  for (int i = 0; i < 400 && (stopped == Clock::time_point{} || taken == Clock::time_point{});
       ++i) {
    if (stopped == Clock::time_point{} && !leads(ns[0])) stopped = Clock::now();
    if (taken == Clock::time_point{} && leads(ns[1])) taken = Clock::now();
  }
  ASSERT_NE(stopped, Clock::time_point{}) << "lb-1 never stopped leading";
  ASSERT_NE(taken, Clock::time_point{}) << "lb-2 never took over";
  auto ms = [&](Clock::time_point t) {
    return static_cast<long long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(t - cut).count());
  };
  printf(
      "[ drill    ] cut off from etcd: lb-1 stopped leading after %lld ms, lb-2 led after "
      "%lld ms (lease 5 s)\n",
      ms(stopped), ms(taken));
  // Never two leaders: the cut-off one stopped first (it stops 0.5 s before its lease can
  // end; the other cannot win before it has).
  EXPECT_LT(stopped, taken);
  // Still serving, from what it had.
  EXPECT_EQ(status_from(client, lab.address(11)), "200");
  EXPECT_EQ(cluster_of(ns[0])["etcd"].value("reachable", true), false);

  // The link back: lb-1 follows again and does not lead.
  ASSERT_TRUE(lab.block("n1", lab.address(2), false)) << lab.error();
  EXPECT_TRUE(within(15, [&] {
    json view = cluster_of(ns[0]);
    return view.contains("etcd") && view["etcd"].value("reachable", false) &&
           view["etcd"].value("watching", false) && view["leader"].value("node", "") == "lb-2";
  })) << cluster_of(ns[0]);
  EXPECT_FALSE(leads(ns[0]));
  EXPECT_TRUE(leads(ns[1]));
}

json group_in(const std::string& ns) {
  std::string out;
  NetworkLab::shell_in(
      ns, "/usr/bin/curl -s -m 1 http://127.0.0.1:9901/api/v1/autoscaling-groups/web", &out);
  json j = json::parse(out, nullptr, false);
  return j.is_object() ? j : json::object();
}

std::set<std::string> instance_ids(const json& group) {
  std::set<std::string> ids;
  if (!group.contains("instances")) return ids;
  for (const auto& i : group["instances"]) {
    if (i.value("state", "") == "InService") ids.insert(i.value("instance_id", ""));
  }
  return ids;
}

// The leader's instances run in the switch namespace (reached by every node over the
// bridge). Cut off from them alone, the leader's checks fail them all, while the other two
// nodes' pass: nothing is replaced. An instance that fails everywhere is replaced.
TEST(ClusterDrillTest, AnInstanceIsReplacedOnlyWhenMostNodesSeeItFailing) {
  std::string why;
  if (!drills_possible(&why)) GTEST_SKIP() << "skipped: " << why;
  DrillCluster c(kSubnet + 1, 1);
  NetworkLab& lab = c.lab();
  ASSERT_TRUE(c.etcd_healthy()) << lab.error();
  PortRange ports = free_port_range(20);
  std::string failed = c.import(
      "listeners:\n  - name: web\n    bind: 0.0.0.0:8080\n"
      "    rules: [ { forward: { target_group: app } } ]\n"
      "target_groups:\n  - name: app\n    deregistration_delay: 1s\n"
      "    health_check: { path: /health, interval: 300ms, timeout: 250ms, "
      "healthy_threshold: 2, unhealthy_threshold: 2 }\n"
      "autoscaling_groups:\n  - name: web\n    target_group: app\n    min_size: 2\n"
      "    max_size: 4\n    desired_capacity: 2\n    health_check_grace_period: 1s\n"
      "    launch:\n      provider: process\n      host: " +
      lab.address(1) + "\n      command: \"/usr/sbin/ip netns exec " + lab.switch_namespace() +
      " {ballast} backend --bind " + lab.address(1) +
      " --port {port} --id {instance_id}\"\n      ports: " + std::to_string(ports.first) + "-" +
      std::to_string(ports.last) + "\n      stop_timeout: 2s\n");
  ASSERT_EQ(failed, "");
  ASSERT_TRUE(c.start_nodes(3)) << lab.error() << c.node(1).log();
  std::vector<std::string> ns = {c.ns(1), c.ns(2), c.ns(3)};
  std::string sw = lab.switch_namespace();
  std::string out;
  ASSERT_TRUE(within(30, [&] { return instance_ids(group_in(ns[0])).size() == 2; }))
      << group_in(ns[0]) << c.node(1).log();
  ASSERT_TRUE(within(10, [&] { return cluster_of(ns[2])["nodes"].size() == 3; }));
  std::set<std::string> fleet = instance_ids(group_in(ns[0]));
  // Every node's checks pass them first (their published views say nothing is failing).
  ASSERT_TRUE(within(15, [&] {
    for (const auto& n : ns) {
      std::string view;
      NetworkLab::shell_in(
          n, "/usr/bin/curl -s -m 1 http://127.0.0.1:9901/api/v1/target-groups/app", &view);
      json g = json::parse(view, nullptr, false);
      if (!g.is_object() || g.value("healthy_count", 0) != 2) return false;
    }
    return true;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the views reach etcd

  // The leader alone loses its way to the instances: they fail its checks only.
  ASSERT_TRUE(lab.block("n1", lab.address(1), true)) << lab.error();
  ASSERT_TRUE(within(10, [&] {
    return c.node(1).log().find("fails this node's health checks but not most nodes'") !=
           std::string::npos;
  })) << c.node(1).log();
  std::this_thread::sleep_for(std::chrono::seconds(3));  // time enough to have replaced them
  EXPECT_EQ(instance_ids(group_in(ns[0])), fleet) << group_in(ns[0]);
  ASSERT_TRUE(lab.block("n1", lab.address(1), false)) << lab.error();

  // An instance that fails everyone's checks is replaced.
  json victim = group_in(ns[0])["instances"][0];
  std::string address = victim.value("address", "");
  ASSERT_EQ(
      NetworkLab::shell_in(
          sw, "/usr/bin/curl -s -X POST -m 2 'http://" + address + "/control/health?ok=false'",
          &out),
      0)
      << out;
  std::string id = victim.value("instance_id", "");
  EXPECT_TRUE(within(30, [&] {
    std::set<std::string> now = instance_ids(group_in(ns[0]));
    return now.size() == 2 && now.count(id) == 0;
  })) << group_in(ns[0]);
}

}  // namespace
}  // namespace ballast::test
