// Failure drills for a virtual IP in front of two ballast nodes, each in its own network
// namespace, with Debian's keepalived (VRRPv3, adverts every 100 ms) moving the address:
// kill -9 the node that holds it while a client that retries idempotent requests asks
// through it, then drain a node on purpose. The figures are printed, not asserted against
// the clock; what is asserted is that the client lost no request.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "support/network_lab.h"
#include "support/test_env.h"
#include "support/test_pki.h"

namespace ballast::test {
namespace {

using nlohmann::json;

constexpr int kSubnet = 213;
constexpr const char* kVip = "10.213.0.100";

bool keepalived_installed() {
  return ::access("/usr/sbin/keepalived", X_OK) == 0;
}

std::string node_config(const std::string& backend, const std::string& track_file) {
  return "workers: 1\nshutdown_timeout: 3s\nadmin: { bind: 127.0.0.1:9901 }\n"
         "keepalived: { track_file: " +
         track_file +
         " }\n"
         "listeners:\n  - name: web\n    bind: 0.0.0.0:8080\n"
         "    rules: [ { forward: { target_group: app } } ]\n"
         "target_groups:\n  - name: app\n    targets: [ { address: " +
         backend + " } ]\n";
}

// As examples/cluster/keepalived-lb-1.conf, for one address: the track file hands the address
// to the peer the moment ballast stops being ready or dies; the script catches a hung process.
std::string keepalived_config(const std::string& track_file, int priority) {
  return "global_defs {\n  vrrp_version 3\n  script_user root\n  enable_script_security\n}\n"
         "vrrp_track_file ballast_ready {\n  file " +
         track_file +
         "\n  weight -100\n}\n"
         "vrrp_script ballast_answers {\n"
         "  script \"/usr/bin/curl -sf -m 1 -o /dev/null http://127.0.0.1:9901/ready\"\n"
         "  interval 1\n  timeout 1\n  fall 2\n  rise 2\n}\n"
         "vrrp_instance web {\n  interface eth0\n  virtual_router_id 77\n  priority " +
         std::to_string(priority) + "\n  advert_int 0.1\n  virtual_ipaddress { " + kVip +
         "/24 }\n  track_file { ballast_ready weight -100 }\n  track_script { ballast_answers "
         "}\n}\n";
}

class VipNode {
 public:
  VipNode(NetworkLab& lab, const std::string& name, int host, int priority,
          const std::string& backend)
      : ns_(lab.add_host(name, host)), dir_(make_temp_dir()) {
    write_file(dir_ + "/node.yaml", node_config(backend, dir_ + "/track"));
    write_file(dir_ + "/keepalived.conf", keepalived_config(dir_ + "/track", priority));
  }
  void start_ballast() {
    ballast_ = std::make_unique<Process>(
        NetworkLab::in(ns_, {BALLAST_BINARY, "run", "-c", dir_ + "/node.yaml"}),
        dir_ + "/ballast-" + std::to_string(++starts_) + ".log");
  }
  void start_keepalived() {
    keepalived_ = std::make_unique<Process>(
        NetworkLab::in(ns_, {"/usr/sbin/keepalived", "-n", "-l", "-D", "--vrrp", "-f",
                             dir_ + "/keepalived.conf", "-p", dir_ + "/keepalived.pid", "-r",
                             dir_ + "/vrrp.pid", "-c", dir_ + "/checkers.pid"}),
        dir_ + "/keepalived.log");
  }
  std::string track() const { return read_file(dir_ + "/track"); }
  bool holds_vip() const {
    std::string log = dir_ + "/addr.log";
    run_shell("/usr/sbin/ip -n " + ns_ + " -4 addr show dev eth0", log);
    return read_file(log).find(std::string(kVip) + "/") != std::string::npos;
  }
  Process& ballast() { return *ballast_; }
  Process& keepalived() { return *keepalived_; }
  ~VipNode() {
    if (keepalived_) keepalived_->signal(SIGTERM), keepalived_->wait_exit(3000);
    if (ballast_ && ballast_->running()) ballast_->signal(SIGTERM), ballast_->wait_exit(5000);
  }

 private:
  std::string ns_;
  std::string dir_;
  int starts_ = 0;
  std::unique_ptr<Process> ballast_;
  std::unique_ptr<Process> keepalived_;
};

// Runs the retrying client in namespace `ns` for `seconds`, calling `during` once it is
// under way; its summary.
template <typename Fn>
json drive(const std::string& ns, double seconds, Fn during) {
  std::string dir = make_temp_dir();
  Process client(NetworkLab::in(ns, {"/usr/bin/python3",
                                     std::string(BALLAST_SOURCE_DIR) +
                                         "/tests/integration/peers/vip_client.py",
                                     kVip, "8080", std::to_string(seconds), "3000"}),
                 dir + "/client.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  during();
  client.wait_exit(static_cast<int>(seconds * 1000) + 15000);
  std::string out = client.log();
  json j = json::parse(out.substr(0, out.find('\n')), nullptr, false);
  return j.is_object() ? j : json{{"error", out}};
}

TEST(VipDrillTest, TheVirtualIpMovesWhenItsNodeDiesOrDrainsAndNoRequestIsLost) {
  std::string why;
  if (!NetworkLab::available(&why)) GTEST_SKIP() << "skipped: " << why;
  if (!keepalived_installed()) {
    GTEST_SKIP() << "keepalived is not installed (scripts/install-deps.sh installs it)";
  }
  NetworkLab lab(kSubnet);
  ASSERT_TRUE(lab.ok()) << lab.error();
  std::string backend = lab.address(1) + ":8081";
  Process app(NetworkLab::in(lab.switch_namespace(), {BALLAST_BINARY, "backend", "--port", "8081",
                                                      "--bind", lab.address(1), "--id", "app"}),
              make_temp_dir() + "/app.log");
  VipNode a(lab, "a", 11, 200, backend), b(lab, "b", 12, 150, backend);
  std::string client_ns = lab.add_host("c", 21);
  ASSERT_TRUE(lab.ok()) << lab.error();
  a.start_ballast();
  b.start_ballast();
  ASSERT_TRUE(within(10, [&] { return a.track() == "0\n" && b.track() == "0\n"; }))
      << a.ballast().log();
  a.start_keepalived();
  b.start_keepalived();
  ASSERT_TRUE(within(10, [&] { return a.holds_vip() && !b.holds_vip(); })) << a.keepalived().log();

  // kill -9 the node that holds the address: its guard writes the track file at once.
  json crash = drive(client_ns, 5, [&] { a.ballast().signal(SIGKILL); });
  printf("[ vip      ] kill -9 of the VIP's node: %s\n", crash.dump().c_str());
  EXPECT_EQ(crash.value("failed_requests", -1), 0) << crash;
  EXPECT_GT(crash.value("requests", 0), 50) << crash;
  EXPECT_TRUE(b.holds_vip());
  EXPECT_EQ(a.track(), "1\n");

  // The node comes back and takes its address back (it has the higher priority).
  a.start_ballast();
  ASSERT_TRUE(within(15, [&] { return a.holds_vip() && !b.holds_vip(); })) << a.keepalived().log();

  // A planned drain (SIGTERM): the address moves before the node stops serving.
  json drain = drive(client_ns, 5, [&] { a.ballast().signal(SIGTERM); });
  printf("[ vip      ] planned drain of the VIP's node: %s\n", drain.dump().c_str());
  EXPECT_EQ(drain.value("failed_requests", -1), 0) << drain;
  EXPECT_TRUE(b.holds_vip());
  EXPECT_EQ(a.ballast().wait_exit(10000), 0) << a.ballast().log();
}

}  // namespace
}  // namespace ballast::test
