// Nodes of a cluster sharing their configuration through a real etcd (Debian's etcd-server,
// started here on loopback): import and export, every node following a change, a node that
// starts and serves from its snapshot while etcd is down, a store that went back (rebuilt)
// read again with an alarm, and a shared configuration with errors that no node applies.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "support/etcd_server.h"
#include "support/http_client.h"
#include "support/launch_journal.h"
#include "support/load_loop.h"
#include "support/processes.h"
#include "support/recording_server.h"
#include "support/test_env.h"
#include "support/test_pki.h"

namespace ballast::test {
namespace {

using nlohmann::json;

int run_ballast(const std::string& args, std::string* output) {
  std::string dir = make_temp_dir();
  std::string log = dir + "/out.log";
  int status = run_shell(std::string(BALLAST_BINARY) + " " + args, log);
  *output = read_file(log);
  return status;
}

std::string shared_config(uint16_t port, uint16_t target) {
  return "listeners:\n"
         "  - name: web\n"
         "    bind: 0.0.0.0:" +
         std::to_string(port) +
         "\n"
         "    rules:\n"
         "      - forward: { target_group: app }\n"
         "target_groups:\n"
         "  - name: app\n"
         "    targets: [ { address: " +
         loopback(target) + " } ]\n";
}

// One ballast node: its own file (cluster section, admin API), listening on 127.0.0.N.
class ClusterNode {
 public:
  // `etcd_extra`: more of its etcd block (tls, username, password_file).
  ClusterNode(int n, const EtcdCluster& etcd, const std::string& prefix,
              const std::string& etcd_extra = "")
      : n_(n), admin_port_(free_port()), dir_(make_temp_dir()) {
    write_file(dir_ + "/node.yaml",
               "workers: 1\nshutdown_timeout: 2s\nadmin: { bind: 127.0.0.1:" +
                   std::to_string(admin_port_) + " }\ncluster:\n  node: lb-" + std::to_string(n) +
                   "\n  zone: " + (n % 2 == 1 ? "a" : "b") + "\n  address: " + address() +
                   "\n  state_dir: " + dir_ +
                   "/state\n  etcd: { endpoints: " + etcd.endpoints_yaml() + ", prefix: " + prefix +
                   ", timeout: 1s" + (etcd_extra.empty() ? "" : ", " + etcd_extra) + " }\n");
    start();
  }
  ~ClusterNode() { stop(); }

  std::string address() const { return "127.0.0." + std::to_string(20 + n_); }
  std::string file() const { return dir_ + "/node.yaml"; }
  uint16_t admin_port() const { return admin_port_; }
  Process& process() { return *process_; }

  void start() {
    process_ =
        std::make_unique<Process>(std::vector<std::string>{BALLAST_BINARY, "run", "-c", file()},
                                  dir_ + "/ballast-" + std::to_string(++starts_) + ".log");
    wait_for_port(admin_port_);
  }
  void stop() {
    if (process_ && process_->running()) {
      process_->signal(SIGTERM);
      process_->wait_exit(5000);
    }
  }
  void kill() {
    process_->signal(SIGKILL);
    process_->wait_exit(5000);
  }
  json cluster() const {
    AdminAnswer a = admin_call(admin_port_, "GET", "/api/v1/cluster");
    json j = json::parse(a.body, nullptr, false);
    return j.is_object() ? j : json::object();
  }
  // The instance that answers GET / on this node's listener ("" when none answers 200).
  std::string instance(uint16_t port) const {
    Client c(address(), port, 2000);
    if (!c.connected()) return "";
    auto r = c.get("/");
    return r && r->status == 200 ? r->header("x-ballast-instance") : "";
  }

 private:
  int n_;
  uint16_t admin_port_;
  std::string dir_;
  int starts_ = 0;
  std::unique_ptr<Process> process_;
};

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!EtcdCluster::installed()) {
      GTEST_SKIP() << "etcd is not installed (scripts/install-deps.sh installs etcd-server)";
    }
  }
  // "" when `ballast cluster import` took `text`, else what it said.
  std::string imported(const EtcdCluster& etcd, const std::string& prefix,
                       const std::string& text) {
    int status = 0;
    std::string out = import(etcd, prefix, text, &status);
    return status == 0 ? "" : out;
  }
  std::string import(const EtcdCluster& etcd, const std::string& prefix, const std::string& text,
                     int* status) {
    std::string path = make_temp_dir() + "/shared.yaml";
    write_file(path, text);
    std::string out;
    *status = run_ballast(
        "cluster import -c " + path + " --etcd " + etcd.endpoints() + " --prefix " + prefix, &out);
    return out;
  }
};

TEST_F(ClusterTest, AnImportedConfigurationReachesEveryNode) {
  EtcdCluster etcd;
  ASSERT_TRUE(etcd.healthy());
  DemoBackend a("A"), b("B");
  uint16_t port = free_port();
  int status = 0;

  // Refused before anything is stored: a node's own section, and an error with its line.
  std::string out =
      import(etcd, "/c1", "admin: { bind: 127.0.0.1:1 }\n" + shared_config(port, 1), &status);
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find("shared.yaml:1:1: admin: admin belongs to each node's own file"),
            std::string::npos)
      << out;
  out = import(etcd, "/c1", shared_config(port, a.port()) + "    algorithm: fastest\n", &status);
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find("shared.yaml:9:"), std::string::npos) << out;
  EXPECT_FALSE(etcd.get("/c1/config").has_value());

  out = import(etcd, "/c1", shared_config(port, a.port()), &status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_NE(out.find("imported as /c1/config"), std::string::npos) << out;
  out = import(etcd, "/c1", shared_config(port, a.port()), &status);
  EXPECT_EQ(status, 0);
  EXPECT_NE(out.find("unchanged"), std::string::npos) << out;

  ClusterNode n1(1, etcd, "/c1"), n2(2, etcd, "/c1");
  EXPECT_TRUE(within(10, [&] { return n1.instance(port) == "A" && n2.instance(port) == "A"; }));
  EXPECT_TRUE(within(10, [&] { return n1.cluster()["nodes"].size() == 2; })) << n1.cluster();
  json c = n1.cluster();
  EXPECT_EQ(c["node"], "lb-1");
  EXPECT_EQ(c["etcd"]["reachable"], true);
  EXPECT_EQ(c["nodes"][1]["name"], "lb-2");
  EXPECT_EQ(c["nodes"][1]["zone"], "b");
  EXPECT_EQ(c["nodes"][1]["address"], n2.address());

  // A change: every node follows (the time it took is printed, not asserted).
  auto t0 = std::chrono::steady_clock::now();
  out = import(etcd, "/c1", shared_config(port, b.port()), &status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_TRUE(within(10, [&] { return n1.instance(port) == "B" && n2.instance(port) == "B"; }));
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  printf("[ cluster  ] a change reached both nodes within %lld ms of the import's answer\n",
         static_cast<long long>(ms));
  EXPECT_EQ(metric_value(n2.admin_port(), "ballast_cluster_etcd_connected"), 1);
  EXPECT_EQ(metric_value(n2.admin_port(), "ballast_cluster_nodes"), 2);

  std::string table;
  EXPECT_EQ(
      run_ballast("ctl --admin 127.0.0.1:" + std::to_string(n1.admin_port()) + " cluster", &table),
      0);
  EXPECT_NE(table.find("lb-2"), std::string::npos) << table;
  EXPECT_NE(table.find("(this node)"), std::string::npos) << table;
  EXPECT_NE(table.find("connected"), std::string::npos) << table;

  std::string exported;
  EXPECT_EQ(run_ballast("cluster export --node " + n1.file(), &exported), 0);
  EXPECT_EQ(exported, shared_config(port, b.port()));

  // A node that leaves is gone from the list within its lease (5 s).
  n2.kill();
  // Its membership and its health view go at one revision, in one watch message.
  EXPECT_TRUE(within(10, [&] { return n1.cluster()["nodes"].size() == 1; }))
      << n1.cluster() << "\netcd: " << etcd.ctl("get /c1/nodes/ --prefix").value_or("no answer")
      << "\nleases: " << etcd.ctl("lease list").value_or("no answer");
}

TEST_F(ClusterTest, ANodeRestartedWhileEtcdIsDownServesItsSnapshot) {
  EtcdCluster etcd;
  ASSERT_TRUE(etcd.healthy());
  DemoBackend a("A"), b("B"), registered("C");
  uint16_t port = free_port();
  ASSERT_EQ(imported(etcd, "/c2", shared_config(port, a.port())), "");
  ClusterNode node(1, etcd, "/c2");
  ASSERT_TRUE(within(10, [&] { return node.instance(port) == "A"; }));
  // A target registered through the API (as the autoscaler registers its instances), once
  // the node holds its membership lease (until then a change is refused with 503).
  ASSERT_TRUE(within(
      10, [&] { return metric_value(node.admin_port(), "ballast_cluster_etcd_connected") == 1; }));
  ASSERT_EQ(admin_call(node.admin_port(), "POST", "/api/v1/target-groups/app/targets",
                       R"({"address": ")" + loopback(registered.port()) + R"("})")
                .status,
            201);
  auto answers = [&] {
    std::set<std::string> seen;
    // The group balances by least outstanding requests: one at a time, the ties fall
    // either way, so several asks are needed to see both.
    for (int i = 0; i < 12; ++i) seen.insert(node.instance(port));
    return seen;
  };
  ASSERT_TRUE(within(10, [&] { return answers() == std::set<std::string>{"A", "C"}; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a control tick saves it

  etcd.stop_all();
  // It keeps serving and says how old its configuration is.
  EXPECT_TRUE(within(10, [&] {
    return metric_value(node.admin_port(), "ballast_cluster_config_age_seconds") >= 2;
  }));
  EXPECT_TRUE(within(5, [&] { return answers() == std::set<std::string>{"A", "C"}; }));
  EXPECT_EQ(metric_value(node.admin_port(), "ballast_cluster_etcd_connected"), 0);

  // Restarted during the outage: up at once from its snapshot, registered target included.
  node.kill();
  node.start();
  EXPECT_TRUE(within(10, [&] { return answers() == std::set<std::string>{"A", "C"}; }));
  json c = node.cluster();
  EXPECT_EQ(c["etcd"]["reachable"], false);
  EXPECT_NE(c["etcd"]["last_error"].get<std::string>().find("Connection refused"),
            std::string::npos)
      << c;
  EXPECT_GT(c["config"]["revision"].get<int64_t>(), 0);

  // etcd back: the node follows changes again.
  etcd.start(0);
  ASSERT_TRUE(etcd.healthy());
  EXPECT_TRUE(within(
      10, [&] { return metric_value(node.admin_port(), "ballast_cluster_etcd_connected") == 1; }));
  ASSERT_EQ(imported(etcd, "/c2", shared_config(port, b.port())), "");
  EXPECT_TRUE(within(10, [&] { return answers() == std::set<std::string>{"B", "C"}; }));
  EXPECT_EQ(metric_value(node.admin_port(), "ballast_cluster_config_age_seconds"), 0);
}

TEST_F(ClusterTest, ARebuiltStoreIsReadAgainWithAnAlarm) {
  EtcdCluster etcd;
  ASSERT_TRUE(etcd.healthy());
  DemoBackend a("A"), b("B");
  uint16_t port = free_port();
  // Enough revisions that the rebuilt store's are lower.
  for (int i = 0; i < 5; ++i) etcd.put("/c3/other", std::to_string(i));
  ASSERT_EQ(imported(etcd, "/c3", shared_config(port, a.port())), "");
  ClusterNode node(1, etcd, "/c3");
  ASSERT_TRUE(within(10, [&] { return node.instance(port) == "A"; }));
  std::string old_id = node.cluster()["etcd"]["cluster_id"];

  // The store is rebuilt empty (another cluster id, revisions from 1): the node notices,
  // raises the alarm, keeps serving, and takes what is imported into the new store.
  etcd.recreate();
  ASSERT_TRUE(etcd.healthy());
  EXPECT_TRUE(within(
      15, [&] { return metric_value(node.admin_port(), "ballast_cluster_resyncs_total") >= 1; }));
  EXPECT_NE(node.cluster()["etcd"]["cluster_id"], old_id);
  EXPECT_EQ(node.instance(port), "A");
  ASSERT_EQ(imported(etcd, "/c3", shared_config(port, b.port())), "");
  EXPECT_TRUE(within(10, [&] { return node.instance(port) == "B"; }));
  EXPECT_NE(node.process().log().find("ALARM: etcd's cluster id changed"), std::string::npos)
      << node.process().log();
}

TEST_F(ClusterTest, ASharedConfigurationWithErrorsIsNotApplied) {
  EtcdCluster etcd;
  ASSERT_TRUE(etcd.healthy());
  DemoBackend a("A");
  uint16_t port = free_port();
  ASSERT_EQ(imported(etcd, "/c4", shared_config(port, a.port())), "");
  ClusterNode node(1, etcd, "/c4");
  ASSERT_TRUE(within(10, [&] { return node.instance(port) == "A"; }));

  // Written past `cluster import` (etcdctl): the node reports the error at its line, in
  // the etcd key and revision, and keeps what it serves.
  ASSERT_TRUE(etcd.put("/c4/config", shared_config(port, a.port()) + "    algorithm: fastest\n"));
  EXPECT_TRUE(
      within(10, [&] { return !node.cluster()["config"]["rejected"].get<std::string>().empty(); }));
  AdminAnswer s = admin_call(node.admin_port(), "GET", "/api/v1/status");
  EXPECT_NE(s.body.find("etcd:/c4/config@"), std::string::npos) << s.body;
  EXPECT_NE(s.body.find(":9:16: target_groups[0].algorithm"), std::string::npos) << s.body;
  EXPECT_EQ(node.instance(port), "A");
}

TEST_F(ClusterTest, ATargetRegisteredThroughAnyNodeIsServedByEveryNode) {
  EtcdCluster etcd;
  ASSERT_TRUE(etcd.healthy());
  DemoBackend a("A"), b("B");
  uint16_t port = free_port();
  ASSERT_EQ(imported(etcd, "/c5", shared_config(port, a.port())), "");
  ClusterNode n1(1, etcd, "/c5"), n2(2, etcd, "/c5");
  ASSERT_TRUE(within(10, [&] { return n1.instance(port) == "A" && n2.instance(port) == "A"; }));
  ASSERT_TRUE(within(10, [&] {
    return metric_value(n1.admin_port(), "ballast_cluster_etcd_connected") == 1 &&
           metric_value(n2.admin_port(), "ballast_cluster_etcd_connected") == 1;
  }));

  // Two nodes register the same target at once: etcd's compare-and-swap lets one win.
  std::string body = R"({"address": ")" + loopback(b.port()) + R"(", "weight": 3})";
  AdminAnswer r1, r2;
  std::thread t1(
      [&] { r1 = admin_call(n1.admin_port(), "POST", "/api/v1/target-groups/app/targets", body); });
  std::thread t2(
      [&] { r2 = admin_call(n2.admin_port(), "POST", "/api/v1/target-groups/app/targets", body); });
  t1.join();
  t2.join();
  EXPECT_EQ((r1.status == 201) + (r2.status == 201), 1) << r1.body << r2.body;
  EXPECT_EQ((r1.status == 409) + (r2.status == 409), 1) << r1.body << r2.body;
  auto value = etcd.get("/c5/targets/app/" + loopback(b.port()));
  ASSERT_TRUE(value.has_value());
  EXPECT_NE(value->find(R"("weight":3)"), std::string::npos) << *value;

  // Both nodes send traffic to it; its answer was given once this node applied it.
  for (ClusterNode* n : {&n1, &n2}) {
    EXPECT_TRUE(within(5, [&] {
      AdminAnswer g = admin_call(n->admin_port(), "GET", "/api/v1/target-groups/app");
      return g.body.find(loopback(b.port())) != std::string::npos;
    }));
  }
  std::map<std::string, int> seen;
  for (int i = 0; i < 40; ++i) seen[n2.instance(port)]++;
  EXPECT_GT(seen["B"], 0);
  EXPECT_GT(seen["A"], 0);

  // A weight set through the other node, then a deregistration: both nodes follow.
  AdminAnswer w =
      admin_call(n2.admin_port(), "PUT", "/api/v1/target-groups/app/targets/" + loopback(b.port()),
                 R"({"weight": 7})");
  EXPECT_EQ(w.status, 200) << w.body;
  EXPECT_TRUE(within(5, [&] {
    AdminAnswer g = admin_call(n1.admin_port(), "GET", "/api/v1/target-groups/app");
    return g.body.find(R"("weight": 7)") != std::string::npos;
  }));
  // A target of the shared configuration is changed there, not through the API.
  AdminAnswer c = admin_call(n1.admin_port(), "DELETE",
                             "/api/v1/target-groups/app/targets/" + loopback(a.port()));
  EXPECT_EQ(c.status, 409);
  EXPECT_NE(c.body.find("ballast cluster import"), std::string::npos) << c.body;
  AdminAnswer d = admin_call(n1.admin_port(), "DELETE",
                             "/api/v1/target-groups/app/targets/" + loopback(b.port()));
  EXPECT_EQ(d.status, 202) << d.body;
  EXPECT_TRUE(within(10, [&] {
    AdminAnswer g = admin_call(n2.admin_port(), "GET", "/api/v1/target-groups/app");
    return g.body.find(loopback(b.port())) == std::string::npos;
  }));
  EXPECT_FALSE(etcd.get("/c5/targets/app/" + loopback(b.port())).has_value());

  // Without etcd, changes are refused with the reason; serving goes on.
  etcd.stop_all();
  EXPECT_TRUE(within(
      10, [&] { return metric_value(n1.admin_port(), "ballast_cluster_etcd_connected") == 0; }));
  AdminAnswer refused =
      admin_call(n1.admin_port(), "POST", "/api/v1/target-groups/app/targets", body);
  EXPECT_EQ(refused.status, 503);
  EXPECT_NE(refused.body.find("etcd is unreachable"), std::string::npos) << refused.body;
  EXPECT_EQ(n1.instance(port), "A");
}

// What `make bench-cluster` reports as "a registry change reaches every node": from the
// API call on one node until all three list the target.
// A cache purge asked through one node drops the object on every node, as a CloudFront
// invalidation reaches every edge; while etcd is away it is refused, and nothing is purged.
TEST_F(ClusterTest, ACachePurgeThroughOneNodeReachesEveryNode) {
  EtcdCluster etcd;
  ASSERT_TRUE(etcd.healthy());
  RecordingServer target([](const std::string&) {
    return std::string(
        "HTTP/1.1 200 OK\r\nCache-Control: max-age=300\r\nSurrogate-Key: page\r\n"
        "Content-Length: 2\r\n\r\nok");
  });
  uint16_t port = free_port();
  ASSERT_EQ(imported(etcd, "/c11",
                     replace_all(shared_config(port, target.port()),
                                 "      - forward: { target_group: app }\n",
                                 "      - forward: { target_group: app }\n"
                                 "        cache: { default_ttl: 0s }\n")),
            "");
  ClusterNode n1(1, etcd, "/c11"), n2(2, etcd, "/c11");
  auto cache_of = [&](const ClusterNode& n) {
    Client c(n.address(), port, 2000);
    auto r = c.connected() ? c.get("/page") : std::nullopt;
    return r && r->status == 200 ? r->header("x-cache") : "none";
  };
  ASSERT_TRUE(within(10, [&] { return cache_of(n1) == "HIT" && cache_of(n2) == "HIT"; }));
  ASSERT_TRUE(within(
      10, [&] { return metric_value(n1.admin_port(), "ballast_cluster_etcd_connected") == 1; }));

  AdminAnswer purged =
      admin_call(n1.admin_port(), "POST", "/api/v1/cache/purge", R"({"tag": "page"})");
  ASSERT_EQ(purged.status, 200) << purged.body;
  EXPECT_EQ(json::parse(purged.body).value("purged", 0), 1) << purged.body;
  EXPECT_EQ(cache_of(n1), "MISS");
  EXPECT_TRUE(within(5, [&] { return cache_of(n2) == "MISS"; }));
  // The key stays for nodes that catch up late, under the writer's lease.
  EXPECT_NE(
      etcd.ctl("get --prefix /c11/purges/ --keys-only").value_or("").find("/c11/purges/lb-1-"),
      std::string::npos);

  // Without etcd a purge would reach this node only: it is refused, and nothing is purged.
  ASSERT_EQ(cache_of(n2), "HIT");
  etcd.stop_all();
  ASSERT_TRUE(within(
      10, [&] { return metric_value(n2.admin_port(), "ballast_cluster_etcd_connected") == 0; }));
  AdminAnswer refused =
      admin_call(n2.admin_port(), "POST", "/api/v1/cache/purge", R"({"tag": "page"})");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find("etcd is unreachable"), std::string::npos) << refused.body;
  EXPECT_EQ(cache_of(n2), "HIT");
}

TEST_F(ClusterTest, ARegistryChangeReachesEveryNode) {
  EtcdCluster etcd(3);
  ASSERT_TRUE(etcd.healthy());
  DemoBackend a("A");
  uint16_t port = free_port();
  ASSERT_EQ(imported(etcd, "/c7", shared_config(port, a.port())), "");
  std::vector<std::unique_ptr<ClusterNode>> nodes;
  for (int n = 1; n <= 3; ++n) nodes.push_back(std::make_unique<ClusterNode>(n, etcd, "/c7"));
  ASSERT_TRUE(within(15, [&] {
    for (auto& n : nodes) {
      if (metric_value(n->admin_port(), "ballast_cluster_nodes") != 3) return false;
    }
    return true;
  }));
  PortRange targets = free_port_range(30);
  std::vector<double> ms;
  for (int i = 0; i < 30; ++i) {
    std::string address = loopback(static_cast<uint16_t>(targets.first + i));
    auto t0 = std::chrono::steady_clock::now();
    AdminAnswer r =
        admin_call(nodes[i % 3]->admin_port(), "POST", "/api/v1/target-groups/app/targets",
                   R"({"address": ")" + address + R"("})");
    ASSERT_EQ(r.status, 201) << r.body;
    bool everywhere = false;
    for (int spin = 0; spin < 5000 && !everywhere; ++spin) {
      everywhere = true;
      for (auto& n : nodes) {
        AdminAnswer g = admin_call(n->admin_port(), "GET", "/api/v1/target-groups/app");
        everywhere = everywhere && g.body.find(address) != std::string::npos;
      }
    }
    ASSERT_TRUE(everywhere) << address;
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  printf(
      "[ cluster  ] registry change on every node (3 nodes, 3 etcd members, %zu changes): "
      "p50 %.1f ms, p99 %.1f ms\n",
      ms.size(), ms[ms.size() / 2], ms[ms.size() * 99 / 100]);
}

// A shared configuration: listener "web" on `port`, target group "app" (fast health checks,
// and `target_group_extra`), filled by autoscaling group "web" (`group_lines`, then its
// launch template's `launch_lines`).
std::string autoscaled(uint16_t port, const std::string& group_lines,
                       const std::string& launch_lines,
                       const std::string& target_group_extra = "") {
  return "listeners:\n  - name: web\n    bind: 0.0.0.0:" + std::to_string(port) +
         "\n    rules: [ { forward: { target_group: app } } ]\n"
         "target_groups:\n  - name: app\n    deregistration_delay: 1s\n" +
         target_group_extra +
         "    health_check: { path: /health, interval: 300ms, timeout: 250ms, "
         "healthy_threshold: 2, unhealthy_threshold: 2 }\n"
         "autoscaling_groups:\n  - name: web\n    target_group: app\n" +
         group_lines + "    launch:\n" + launch_lines;
}

std::string sizes(int min, int max, int desired) {
  return "    min_size: " + std::to_string(min) + "\n    max_size: " + std::to_string(max) +
         "\n    desired_capacity: " + std::to_string(desired) + "\n";
}

// Process instances: `ballast backend` children of the leader.
std::string process_launch() {
  PortRange ports = free_port_range(30);
  return "      provider: process\n"
         "      command: \"{ballast} backend --port {port} --id {instance_id}\"\n"
         "      ports: " +
         std::to_string(ports.first) + "-" + std::to_string(ports.last) +
         "\n      stop_timeout: 2s\n";
}

std::string autoscaled_config(uint16_t port, int desired) {
  return autoscaled(port, sizes(0, 8, desired) + "    health_check_grace_period: 10s\n",
                    process_launch());
}

// Instances on "a platform": the example exec provider's `ballast backend` processes, which
// outlive ballast, started from `state`; each launch answers after `launch_delay` seconds,
// like a slow cloud API.
std::string exec_launch(const std::string& state, double launch_delay = 0) {
  std::string script =
      std::string(BALLAST_SOURCE_DIR) + "/examples/exec-provider/local-processes.py";
  PortRange ports = free_port_range(30);
  return "      provider: exec\n      launch: " + script + "\n      terminate: " + script +
         "\n      describe: " + script +
         "\n      describe_interval: 1s\n      environment: { BALLAST_BIN: " + BALLAST_BINARY +
         ", STATE_DIR: " + state + ", PORT_FIRST: \"" + std::to_string(ports.first) +
         "\", PORT_LAST: \"" + std::to_string(ports.last) + "\", LAUNCH_DELAY: \"" +
         std::to_string(launch_delay) + "\" }\n";
}

json group_of(const ClusterNode& n) {
  AdminAnswer a = admin_call(n.admin_port(), "GET", "/api/v1/autoscaling-groups/web");
  json j = json::parse(a.body, nullptr, false);
  return j.is_object() ? j : json::object();
}

// Running `ballast backend` processes started for instance `id`.
bool instance_process_running(const std::string& id) {
  for (const auto& p : all_processes()) {
    if (p.state == 'Z') continue;
    std::string cmdline = read_file("/proc/" + std::to_string(p.pid) + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(" backend ") != std::string::npos &&
        cmdline.find("--id " + id + " ") != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST_F(ClusterTest, OneLeaderRunsTheAutoscalerAndItsSuccessorFinishesAScaleOut) {
  EtcdCluster etcd;
  ASSERT_TRUE(etcd.healthy());
  uint16_t port = free_port();
  ASSERT_EQ(imported(etcd, "/c6", autoscaled_config(port, 2)), "");
  auto n1 = std::make_unique<ClusterNode>(1, etcd, "/c6");
  ASSERT_TRUE(within(10, [&] { return n1->cluster()["leader"]["self"] == true; })) << n1->cluster();
  ClusterNode n2(2, etcd, "/c6");
  ASSERT_TRUE(within(30, [&] { return group_of(*n1).value("in_service", 0) == 2; }))
      << group_of(*n1);
  // The follower runs no autoscaler, says who does, and serves the leader's instances.
  EXPECT_EQ(n2.cluster()["leader"]["node"], "lb-1");
  AdminAnswer follower = admin_call(n2.admin_port(), "GET", "/api/v1/autoscaling-groups/web");
  EXPECT_EQ(follower.status, 409);
  EXPECT_NE(follower.body.find("lb-1 leads it"), std::string::npos) << follower.body;
  EXPECT_TRUE(within(10, [&] { return !n2.instance(port).empty(); }));
  int64_t first_token = n1->cluster()["leader"]["fencing_token"];

  // A scale-out, and the leader dies before it is done.
  std::vector<std::string> old_ids;
  json before = group_of(*n1);
  for (const auto& i : before["instances"]) old_ids.push_back(i["instance_id"]);
  AdminAnswer scale = admin_call(n1->admin_port(), "PUT", "/api/v1/autoscaling-groups/web/desired",
                                 R"({"desired_capacity": 4})");
  ASSERT_EQ(scale.status, 200) << scale.body;
  ASSERT_TRUE(within(5, [&] {
    auto v = etcd.get("/c6/autoscaling/web");
    return v && v->find(R"("desired":4)") != std::string::npos;
  }));
  auto killed = std::chrono::steady_clock::now();
  n1->kill();

  ASSERT_TRUE(within(20, [&] { return n2.cluster()["leader"]["self"] == true; })) << n2.cluster();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  killed)
                .count();
  printf("[ cluster  ] a new leader acted %lld ms after the leader was killed (lease 5 s)\n",
         static_cast<long long>(ms));
  EXPECT_GT(n2.cluster()["leader"]["fencing_token"].get<int64_t>(), first_token);
  // The successor finishes the scale-out from the desired capacity the leader left.
  EXPECT_TRUE(within(40, [&] { return group_of(n2).value("in_service", 0) == 4; })) << group_of(n2);
  EXPECT_EQ(group_of(n2)["desired_capacity"], 4);
  // No instance was launched twice, and none of the dead leader's is left running.
  std::set<std::string> ids;
  json after = group_of(n2);
  for (const auto& i : after["instances"]) ids.insert(i["instance_id"].get<std::string>());
  EXPECT_EQ(ids.size(), 4u) << after;
  EXPECT_EQ(old_ids.size(), 2u);
  for (const auto& id : old_ids) {
    EXPECT_EQ(ids.count(id), 0u) << id;
    EXPECT_TRUE(within(10, [&] { return !instance_process_running(id); })) << id << " leaked";
  }
  // Only the successor's instances are targets now.
  EXPECT_TRUE(within(10, [&] {
    auto keys = etcd.ctl("get /c6/targets/ --prefix --keys-only");
    size_t count = 0;
    for (size_t at = 0; keys && (at = keys->find("/c6/targets/", at)) != std::string::npos; ++at) {
      ++count;
    }
    return count == 4;
  }));

  // A clean stop hands leadership over at once (the lease is revoked, not left to expire).
  auto n3 = std::make_unique<ClusterNode>(3, etcd, "/c6");
  ASSERT_TRUE(within(10, [&] { return n3->cluster()["nodes"].size() == 2; }));
  auto stopped = std::chrono::steady_clock::now();
  n2.stop();
  ASSERT_TRUE(within(10, [&] { return n3->cluster()["leader"]["self"] == true; }));
  printf("[ cluster  ] after a clean stop, the next leader acted within %lld ms\n",
         static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::steady_clock::now() - stopped)
                                    .count()));
}

// The alarm's transitions to ALARM in `node`'s history, and its scope.
std::pair<int, std::string> alarm_of(const ClusterNode& node, const std::string& name) {
  json list =
      json::parse(admin_call(node.admin_port(), "GET", "/api/v1/alarms").body, nullptr, false);
  if (!list.is_object() || !list["alarms"].is_array()) return {0, ""};
  for (const auto& a : list["alarms"]) {
    if (a.value("name", "") != name) continue;
    int alarms = 0;
    for (const auto& t : a["history"]) alarms += t.value("to", "") == "ALARM";
    return {alarms, a.value("scope", "") + " " + a.value("state", "")};
  }
  return {0, ""};
}

// Every node's traffic counts in the leader's target tracking and alarms: here all of it
// goes through the follower, as when a virtual IP keeps the clients on one node. The
// leader alone notifies.
TEST_F(ClusterTest, TheLeadersPoliciesAndAlarmsCountTheTrafficOfEveryNode) {
  EtcdCluster etcd;
  ASSERT_TRUE(etcd.healthy());
  uint16_t port = free_port();
  RecordingServer hook;
  std::string config =
      autoscaled(port,
                 sizes(1, 3, 1) +
                     "    health_check_grace_period: 10s\n    instance_warmup: 1s\n"
                     "    policies:\n      - { type: target_tracking, metric: "
                     "request_count_per_target, target: 50, window: 2s }\n"
                     "      - { name: slow, type: target_tracking, metric: latency_p99, "
                     "target: 10, window: 2s }\n",
                 process_launch()) +
      "alarms:\n  - name: busy\n    metric: RequestCount\n    dimensions: { target_group: app }\n"
      "    statistic: Sum\n    period: 2s\n    threshold: 50\n"
      "    comparison: GreaterThanThreshold\n    actions:\n      alarm: [{ webhook: "
      "\"http://127.0.0.1:" +
      std::to_string(hook.port()) + "/hook\" }]\n";
  ASSERT_EQ(imported(etcd, "/c9", config), "");
  ClusterNode n1(1, etcd, "/c9");
  ASSERT_TRUE(within(10, [&] { return n1.cluster()["leader"]["self"] == true; })) << n1.cluster();
  ClusterNode n2(2, etcd, "/c9");
  ASSERT_TRUE(within(30, [&] { return group_of(n1).value("in_service", 0) == 1; })) << group_of(n1);
  ASSERT_TRUE(within(10, [&] { return !n2.instance(port).empty(); }));

  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::thread load([&] {
    for (int k = 0; k < 200000 && !stop; ++k) {
      Client c(n2.address(), port, 2000);
      for (int r = 0; r < 100 && !stop && c.connected(); ++r) {
        auto a = c.get("/");
        if (!a) break;
        answered += a->status == 200;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a few hundred a second
      }
    }
  });
  bool scaled = within(40, [&] { return group_of(n1).value("desired_capacity", 0) >= 2; });
  // The leader's alarm reads the cluster's series: the follower's requests are in them. So
  // does its latency policy (the leader itself answered none of them).
  bool alarmed = within(15, [&] { return alarm_of(n1, "busy").second == "cluster ALARM"; });
  bool latency = within(10, [&] {
    json g = group_of(n1);  // held: a loop over a temporary's member would dangle
    for (const auto& p : g["policies"]) {
      if (p.value("name", "") == "slow" && p["metric"].is_number()) return true;
    }
    return false;
  });
  stop = true;
  load.join();
  EXPECT_TRUE(scaled) << group_of(n1) << n1.process().log();
  EXPECT_TRUE(alarmed) << admin_call(n1.admin_port(), "GET", "/api/v1/alarms").body;
  EXPECT_TRUE(latency) << group_of(n1)["policies"];
  // The follower's own alarm saw the same traffic, but only the leader notified: one
  // notification per transition in the leader's history.
  EXPECT_EQ(alarm_of(n2, "busy").second.rfind("node ", 0), 0u) << alarm_of(n2, "busy").second;
  EXPECT_GE(alarm_of(n2, "busy").first, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a notification on its way
  std::string received = hook.received();
  int notified = 0;
  for (size_t at = received.find("\"NewStateValue\":\"ALARM\""); at != std::string::npos;
       at = received.find("\"NewStateValue\":\"ALARM\"", at + 1))
    ++notified;
  EXPECT_EQ(notified, alarm_of(n1, "busy").first) << received;
  EXPECT_GE(notified, 1);
  EXPECT_GT(answered.load(), 200);
  EXPECT_TRUE(within(30, [&] { return group_of(n1).value("in_service", 0) >= 2; })) << group_of(n1);
  json g = group_of(n1);
  AdminAnswer log = admin_call(n1.admin_port(), "GET", "/api/v1/autoscaling-groups/web/activities");
  json activities = json::parse(log.body, nullptr, false);
  std::string causes;
  if (activities.is_object())
    for (const auto& a : activities["activities"]) causes += a.value("cause", "") + "\n";
  EXPECT_NE(causes.find("target tracking policy policy-1 (request_count_per_target"),
            std::string::npos)
      << causes;
  // The leader itself served none of it (its own counts, as its peers would read them).
  json own = json::parse(admin_call(n1.admin_port(), "GET", "/api/v1/cluster/traffic").body,
                         nullptr, false);
  ASSERT_TRUE(own.is_object());
  double served = 0;
  for (const auto& t : own["targets"]) served += t.value("requests", 0.0);
  EXPECT_EQ(served, 0) << own;
  printf("[ cluster  ] %d requests through the follower; the leader's group: desired %d\n",
         answered.load(), g.value("desired_capacity", 0));
}

std::set<std::string> active_ids(const json& group) {
  std::set<std::string> ids;
  for (const auto& i : group["instances"]) {
    if (i["state"] != "Terminated") ids.insert(i["instance_id"].get<std::string>());
  }
  return ids;
}

TEST_F(ClusterTest, ASuccessorAdoptsInstancesThatOutliveTheLeaderAndLaunchesNoneTwice) {
  EtcdCluster etcd;
  ASSERT_TRUE(etcd.healthy());
  uint16_t port = free_port();
  std::string state = make_temp_dir();
  // A cluster node leaves exec instances running when it stops: the test stops them.
  LaunchedBackendsStopper stopper{state};
  ASSERT_EQ(imported(etcd, "/c7",
                     autoscaled(port, sizes(0, 8, 2) + "    health_check_grace_period: 20s\n",
                                exec_launch(state, 2.0))),
            "");
  auto n1 = std::make_unique<ClusterNode>(1, etcd, "/c7");
  ASSERT_TRUE(within(10, [&] { return n1->cluster()["leader"]["self"] == true; })) << n1->cluster();
  ClusterNode n2(2, etcd, "/c7");
  ASSERT_TRUE(within(40, [&] { return group_of(*n1).value("in_service", 0) == 2; }))
      << group_of(*n1);

  // A scale-out whose launches are recorded in etcd, then asked for; the leader dies while
  // the platform is still answering them.
  ASSERT_EQ(admin_call(n1->admin_port(), "PUT", "/api/v1/autoscaling-groups/web/desired",
                       R"({"desired_capacity": 4})")
                .status,
            200);
  ASSERT_TRUE(within(10, [&] {
    auto v = etcd.get("/c7/autoscaling/web");
    json j = v ? json::parse(*v, nullptr, false) : json();
    if (!j.is_object()) return false;
    int launching = 0;
    for (const auto& i : j["instances"]) launching += i["intent"] == "launch";
    return j["instances"].size() == 4 && launching == 2;
  })) << etcd.get("/c7/autoscaling/web").value_or("");
  json recorded = json::parse(*etcd.get("/c7/autoscaling/web"));
  std::set<std::string> ids;
  for (const auto& i : recorded["instances"]) ids.insert(i["id"].get<std::string>());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the launches are asked for
  n1->kill();

  // The successor asks again for the two launches, with the same keys, and adopts the two
  // running instances: the same four, each started once.
  ASSERT_TRUE(within(20, [&] { return n2.cluster()["leader"]["self"] == true; })) << n2.cluster();
  ASSERT_TRUE(within(40, [&] { return group_of(n2).value("in_service", 0) == 4; })) << group_of(n2);
  EXPECT_EQ(active_ids(group_of(n2)), ids) << group_of(n2);
  std::map<std::string, int> started = read_launch_journal(state).times;
  EXPECT_EQ(started.size(), 4u) << read_file(state + "/launches.log");
  for (const auto& [id, times] : started) {
    EXPECT_EQ(times, 1) << id << " started " << times << " times";
    EXPECT_EQ(ids.count(id), 1u) << id << " is not one the leader recorded";
  }
  EXPECT_TRUE(within(10, [&] {
    auto keys = etcd.ctl("get /c7/targets/ --prefix --keys-only");
    size_t count = 0;
    for (size_t at = 0; keys && (at = keys->find("/c7/targets/", at)) != std::string::npos; ++at)
      ++count;
    return count == 4;
  })) << "the adopted instances keep their targets";

  // A clean stop leaves them running for the next leader, which adopts them too.
  ClusterNode n3(3, etcd, "/c7");
  ASSERT_TRUE(within(10, [&] { return n3.cluster()["nodes"].size() == 2; }));
  n2.stop();
  ASSERT_TRUE(within(10, [&] { return n3.cluster()["leader"]["self"] == true; }));
  ASSERT_TRUE(within(40, [&] { return group_of(n3).value("in_service", 0) == 4; })) << group_of(n3);
  EXPECT_EQ(active_ids(group_of(n3)), ids);
  EXPECT_EQ(read_launch_journal(state).times.size(), 4u) << read_file(state + "/launches.log");
  for (const auto& id : ids) EXPECT_TRUE(instance_process_running(id)) << id;

  // Their end goes through the new leader's terminate calls.
  ASSERT_EQ(admin_call(n3.admin_port(), "PUT", "/api/v1/autoscaling-groups/web/desired",
                       R"({"desired_capacity": 0})")
                .status,
            200);
  for (const auto& id : ids) {
    EXPECT_TRUE(within(30, [&] { return !instance_process_running(id); })) << id << " leaked";
  }
}

// etcd as production runs it: TLS with client certificates, authentication on, and ballast's
// user allowed its prefix only.
TEST_F(ClusterTest, ASecuredEtcdIsReachedOverTlsWithAUserWhoseTokenIsRenewed) {
  EtcdCluster::Secured secured;
  secured.prefix = "/c8";
  EtcdCluster etcd(1, secured);
  ASSERT_TRUE(etcd.healthy());
  std::string dir = make_temp_dir();
  write_file(dir + "/password", secured.password + "\n");
  write_file(dir + "/wrong", "not-the-password\n");
  std::string tls = "tls: { ca: " + etcd.ca_file() + ", cert: " + etcd.client_cert() +
                    ", key: " + etcd.client_key() + " }";
  std::string user = "username: " + secured.user + ", password_file: ";
  uint16_t port = free_port();
  RecordingServer backend([](const std::string&) {
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });

  // The import takes etcd's TLS settings and user from a node's file.
  ClusterNode n1(1, etcd, "/c8", tls + ", " + user + dir + "/password");
  int status = 0;
  std::string out = import(etcd, "/c8", shared_config(port, backend.port()), &status);
  EXPECT_NE(status, 0) << "without the node's file, no client certificate: " << out;
  std::string path = make_temp_dir() + "/shared.yaml";
  write_file(path, shared_config(port, backend.port()));
  ASSERT_EQ(run_ballast("cluster import -c " + path + " --node " + n1.file(), &out), 0) << out;
  ASSERT_TRUE(within(15, [&] { return n1.cluster()["config"].value("revision", 0) > 0; }))
      << n1.cluster() << n1.process().log();
  EXPECT_TRUE(within(10, [&] { return n1.cluster()["leader"]["self"] == true; })) << n1.cluster();

  // Writes through the API work, and go on working once etcd has forgotten the token (a
  // restart: simple tokens live in its memory), as they do once a token expires.
  for (int round = 0; round < 2; ++round) {
    std::string address = "127.0.0.1:" + std::to_string(40100 + round);
    AdminAnswer a;
    EXPECT_TRUE(within(15,
                       [&] {
                         a = admin_call(n1.admin_port(), "POST",
                                        "/api/v1/target-groups/app/targets",
                                        R"({"address": ")" + address + R"("})");
                         return a.status == 201;
                       }))
        << a.status << " " << a.body;
    EXPECT_TRUE(etcd.get("/c8/targets/app/" + address).has_value()) << address;
    if (round == 0) {
      etcd.stop(0);
      etcd.start(0);
      ASSERT_TRUE(etcd.healthy());
    }
  }
  EXPECT_NE(n1.process().log().find("lb-1 leads the autoscaler"), std::string::npos);
  EXPECT_NE(n1.process().log().find("authenticating again"), std::string::npos)
      << n1.process().log();

  // A wrong password is said plainly, and the node serves on from its snapshot.
  ClusterNode n2(2, etcd, "/c8", tls + ", " + user + dir + "/wrong");
  EXPECT_TRUE(within(10, [&] {
    json c = n2.cluster();
    return c.contains("etcd") &&
           c["etcd"].value("last_error", "").find("etcd refused user \"ballast\"") !=
               std::string::npos;
  })) << n2.cluster();
}

}  // namespace
}  // namespace ballast::test
