// The dashboard: served from the binary, loaded in headless Chromium while traffic flows;
// its charts hold data points, its tables list the targets and alarms. The screenshot
// lands in the build folder (build/dashboard.png).
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <regex>

#include "support/etcd_server.h"
#include "support/http_client.h"
#include "support/load_loop.h"
#include "support/patroni_cluster.h"
#include "support/ports.h"
#include "support/process.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

// Runs headless Chromium on `url` with `args`; returns what it printed (bounded: 60 s).
std::string chromium(const std::string& url, const std::vector<std::string>& args,
                     const std::string& dir, int* exit_code) {
  std::vector<std::string> argv = {"/usr/bin/chromium",
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--user-data-dir=" + dir + "/profile",
                                   "--virtual-time-budget=8000"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(url);
  Process p(argv, dir + "/chromium.out");
  *exit_code = p.wait_exit(60000);
  return p.log();
}

TEST(DashboardTest, AutoscalingGroupsShowCapacityAndActivities) {
  PortRange ports = free_port_range(21);
  Ballast lb(
      "workers: 1\nlisteners:\n  - name: web\n    bind: 127.0.0.1:${PORT}\n"
      "    rules:\n      - forward: { target_group: app }\n"
      "target_groups:\n  - name: app\n    health_check: { interval: 300ms, timeout: 250ms }\n"
      "autoscaling_groups:\n  - name: web\n    target_group: app\n    min_size: 2\n"
      "    max_size: 4\n    launch:\n      command: \"{ballast} backend --port {port}\"\n"
      "      ports: " +
      std::to_string(ports.first) + "-" + std::to_string(ports.last) + "\n");
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_TRUE(within(15, [&] {
    return admin_call(lb.admin_port(), "GET", "/api/v1/autoscaling-groups/web")
               .body.find("\"in_service\": 2") != std::string::npos;
  })) << lb.process().log();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // capacity samples
  std::string dir = make_temp_dir();
  int code = -1;
  std::string dom =
      chromium("http://" + loopback(lb.admin_port()) + "/", {"--dump-dom"}, dir, &code);
  ASSERT_EQ(code, 0) << dom;
  EXPECT_NE(dom.find("Autoscaling group web: desired 2 (min 2, max 4), 2 in service"),
            std::string::npos)
      << dom;
  EXPECT_NE(dom.find("Launching a new instance"), std::string::npos) << "the activity timeline";
  EXPECT_NE(dom.find("the group was created with desired capacity 2"), std::string::npos);
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(dom, m, std::regex("id=\"asg-web-chart\"[^>]*data-points=\"(\\d+)\"")))
      << dom;
  EXPECT_GT(std::stoi(m[1]), 3) << "the capacity chart itself drew points";
  lb.process().signal(SIGTERM);
  EXPECT_EQ(lb.process().wait_exit(30000), 0);
}

TEST(DashboardTest, ChartsHaveDataAndTablesListTargetsAndAlarms) {
  DemoBackend a("a"), b("b");
  Ballast lb(proxy_config({a.port(), b.port()}) +
             "alarms:\n  - name: latency-watch\n    metric: TargetResponseTime\n"
             "    dimensions: { target_group: app }\n    statistic: p99\n    period: 1s\n"
             "    threshold: 5\n");
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  std::string url = "http://" + loopback(lb.admin_port()) + "/";
  auto page = http_get(lb.admin_port(), "/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->header("content-type"), "text/html; charset=utf-8");
  auto chart_library = http_get(lb.admin_port(), "/uPlot.iife.min.js");
  ASSERT_TRUE(chart_library);
  EXPECT_GT(chart_library->body.size(), 20000u) << "uPlot is compiled in";

  LoadLoop load(lb.port(), 2, "/sleep?ms=2");
  ASSERT_TRUE(load.wait_for_more(200));
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // a few per-second samples

  std::string dir = make_temp_dir();
  int code = -1;
  std::string dom = chromium(url, {"--dump-dom"}, dir, &code);
  ASSERT_EQ(code, 0) << dom;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dom, m, std::regex("data-points=\"(\\d+)\""))) << dom;
  EXPECT_GT(std::stoi(m[1]), 10) << "the charts drew data points";
  for (uint16_t port : {a.port(), b.port()}) {
    EXPECT_NE(dom.find("<td>" + loopback(port) + "</td><td class=\"state-healthy\">healthy</td>"),
              std::string::npos)
        << "target table lists " << loopback(port) << "\n"
        << dom;
  }
  EXPECT_NE(dom.find("<td>latency-watch</td>"), std::string::npos) << dom;

  std::string shot = std::string(BALLAST_BUILD_DIR) + "/dashboard.png";
  std::filesystem::remove(shot);
  chromium(url, {"--window-size=1400,1600", "--screenshot=" + shot}, dir, &code);
  EXPECT_EQ(code, 0);
  ASSERT_TRUE(std::filesystem::exists(shot));
  EXPECT_GT(std::filesystem::file_size(shot), 10000u);
  load.stop();
  EXPECT_EQ(load.failed(), 0) << load.first_failure();
}

TEST(DashboardTest, TheCacheSectionShowsHitRatioPerRule) {
  DemoBackend a("a");
  std::string yaml = proxy_config({a.port()});
  yaml =
      replace_all(yaml, "      - forward: { target_group: app }\n",
                  "      - forward: { target_group: app }\n        cache: { default_ttl: 60s }\n");
  Ballast lb(yaml);
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  LoadLoop load(lb.port(), 2, "/");
  ASSERT_TRUE(load.wait_for_more(200));
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // a few per-second samples
  std::string dir = make_temp_dir();
  int code = -1;
  std::string dom =
      chromium("http://" + loopback(lb.admin_port()) + "/", {"--dump-dom"}, dir, &code);
  ASSERT_EQ(code, 0) << dom;
  EXPECT_EQ(dom.find("<section id=\"cache\" hidden"), std::string::npos) << "shown: a rule caches";
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(dom, m, std::regex("id=\"chart-cache-hits\"[^>]*data-points=\"(\\d+)\"")))
      << dom;
  EXPECT_GT(std::stoi(m[1]), 1) << "the hit ratio chart drew points";
  load.stop();
  EXPECT_EQ(load.failed(), 0) << load.first_failure();
}

TEST(DashboardTest, TheClusterSectionListsTheNodesAndTheLeader) {
  if (!EtcdCluster::installed()) GTEST_SKIP() << "etcd is not installed";
  EtcdCluster etcd;
  ASSERT_TRUE(etcd.healthy());
  // A node with nothing imported yet: no listener, only its admin API.
  std::string dir = make_temp_dir();
  uint16_t admin = free_port();
  write_file(dir + "/node.yaml", "admin: { bind: 127.0.0.1:" + std::to_string(admin) +
                                     " }\ncluster:\n  node: lb-7\n  zone: a\n  state_dir: " + dir +
                                     "/state\n  etcd: { endpoints: " + etcd.endpoints_yaml() +
                                     ", prefix: /d }\n");
  Process lb({BALLAST_BINARY, "run", "-c", dir + "/node.yaml"}, dir + "/ballast.log");
  ASSERT_TRUE(wait_for_port(admin));
  ASSERT_TRUE(within(10, [&] {
    return admin_call(admin, "GET", "/api/v1/cluster").body.find("\"self\": true") !=
           std::string::npos;
  }));
  int code = -1;
  std::string dom = chromium("http://" + loopback(admin) + "/", {"--dump-dom"}, dir, &code);
  ASSERT_EQ(code, 0) << dom;
  EXPECT_EQ(dom.find("<section id=\"cluster\" hidden"), std::string::npos) << dom;
  EXPECT_NE(dom.find("data-node=\"lb-7\""), std::string::npos) << dom;
  EXPECT_NE(dom.find("leader (this node)"), std::string::npos) << dom;
  EXPECT_NE(dom.find("autoscaler leader: lb-7"), std::string::npos) << dom;
}

TEST(DashboardTest, TheDatabasesSectionShowsMembersRolesAndChanges) {
  std::string why;
  if (!EtcdCluster::installed()) GTEST_SKIP() << "etcd is not installed";
  if (!PatroniCluster::usable(&why)) GTEST_SKIP() << why;
  EtcdCluster etcd;
  ASSERT_TRUE(etcd.healthy());
  PatroniCluster patroni(2, etcd);
  ASSERT_TRUE(patroni.ready(90)) << patroni.log(0);
  Ballast lb("databases:\n  - name: main\n    patroni: { scope: main }\n    members:\n" +
             patroni.members_yaml() +
             "    writer: { bind: 127.0.0.1:${PORT} }\n"
             "    reader: { bind: 127.0.0.1:" +
             std::to_string(free_port()) + " }\n");
  ASSERT_TRUE(lb.ready());
  ASSERT_TRUE(within(10, [&] {
    return admin_call(lb.admin_port(), "GET", "/api/v1/databases/main").body.find("\"started\"") !=
           std::string::npos;
  }));
  std::string dir = make_temp_dir();
  int code = -1;
  std::string dom =
      chromium("http://" + loopback(lb.admin_port()) + "/", {"--dump-dom"}, dir, &code);
  ASSERT_EQ(code, 0) << dom;
  EXPECT_EQ(dom.find("<section id=\"databases\" hidden"), std::string::npos) << dom;
  EXPECT_NE(dom.find("data-member=\"main/pg1\""), std::string::npos) << dom;
  EXPECT_NE(dom.find("data-member=\"main/pg2\""), std::string::npos) << dom;
  EXPECT_NE(dom.find("primary is pg"), std::string::npos) << dom;           // the role change
  EXPECT_NE(dom.find("class=\"state-fenced\""), std::string::npos) << dom;  // the replica
  // The same in /metrics, which promtool reads as valid Prometheus text.
  std::string metrics = admin_call(lb.admin_port(), "GET", "/metrics").body;
  int p = patroni.primary();
  ASSERT_GE(p, 0);
  EXPECT_NE(metrics.find("ballast_db_member_role{database=\"main\",member=\"" + patroni.name(p) +
                         "\",role=\"primary\",state=\"running\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("ballast_db_writer_available{database=\"main\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("ballast_db_role_changes_total{database=\"main\",cause=\"started\"} 1"),
            std::string::npos);
  write_file(dir + "/metrics.txt", metrics);
  Process promtool({"/bin/sh", "-c", "promtool check metrics < " + dir + "/metrics.txt"},
                   dir + "/promtool.log");
  EXPECT_EQ(promtool.wait_exit(30000), 0) << promtool.log();
}

TEST(DashboardTest, StaticFilesNeedNoTokenButTheApiDoes) {
  DemoBackend a("a");
  Ballast lb(proxy_config({a.port()}) + "admin:\n  bind: 127.0.0.1:${ADMIN_PORT}\n  token: t\n");
  ASSERT_TRUE(lb.ready());
  EXPECT_EQ(admin_call(lb.admin_port(), "GET", "/").status, 200);
  EXPECT_EQ(admin_call(lb.admin_port(), "GET", "/dashboard.js").status, 200);
  EXPECT_EQ(admin_call(lb.admin_port(), "GET", "/api/v1/target-groups").status, 401);
  EXPECT_EQ(admin_call(lb.admin_port(), "GET", "/metrics").status, 401);
}

}  // namespace
}  // namespace ballast::test
