#include "support/cluster_lab.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "support/test_env.h"

namespace ballast::test {

using nlohmann::json;

namespace {

// As examples/cluster/keepalived-lb-1.conf, for one address: the track file hands the address
// to the peer the moment ballast stops being ready or dies; the script catches a hung process.
std::string keepalived_config(const std::string& track_file, const std::string& vip, int priority) {
  return "global_defs {\n  vrrp_version 3\n  script_user root\n  enable_script_security\n}\n"
         "vrrp_track_file ballast_ready {\n  file " +
         track_file +
         "\n  weight -100\n}\n"
         "vrrp_script ballast_answers {\n"
         "  script \"/usr/bin/curl -sf -m 1 -o /dev/null http://127.0.0.1:9901/ready\"\n"
         "  interval 1\n  timeout 1\n  fall 2\n  rise 2\n}\n"
         "vrrp_instance web {\n  interface eth0\n  virtual_router_id 77\n  priority " +
         std::to_string(priority) + "\n  advert_int 0.1\n  virtual_ipaddress { " + vip +
         "/24 }\n  track_file { ballast_ready weight -100 }\n  track_script { ballast_answers "
         "}\n}\n";
}

}  // namespace

LabNode::LabNode(NetworkLab& net, int n, std::string zone, std::string node_yaml, std::string dir)
    : n_(n), zone_(std::move(zone)), ns_(net.add_host(host(), 10 + n)), dir_(std::move(dir)) {
  write_file(dir_ + "/node.yaml", node_yaml + "keepalived: { track_file: " + dir_ + "/track }\n");
}

LabNode::~LabNode() {
  if (keepalived_) keepalived_->signal(SIGTERM), keepalived_->wait_exit(3000);
  if (ballast_ && ballast_->running()) ballast_->signal(SIGTERM), ballast_->wait_exit(5000);
}

void LabNode::start() {
  ballast_ = std::make_unique<Process>(
      NetworkLab::in(ns_, {BALLAST_BINARY, "run", "-c", dir_ + "/node.yaml"}),
      dir_ + "/ballast-" + std::to_string(++starts_) + ".log");
}

json LabNode::get(const std::string& path) const {
  std::string out;
  NetworkLab::shell_in(ns_, "/usr/bin/curl -s -m 1 http://127.0.0.1:9901" + path, &out);
  json j = json::parse(out, nullptr, false);
  return j.is_object() ? j : json::object();
}

std::string LabNode::send(const std::string& method, const std::string& path,
                          const std::string& body) const {
  write_file(dir_ + "/body.json", body);
  std::string out;
  NetworkLab::shell_in(ns_,
                       "/usr/bin/curl -s -o /dev/null -w '%{http_code}' -m 2 -X " + method +
                           " -H 'Content-Type: application/json' --data-binary @" + dir_ +
                           "/body.json http://127.0.0.1:9901" + path,
                       &out);
  return out;
}

bool LabNode::leads() const {
  json c = cluster();
  return c.contains("leader") && c["leader"].value("self", false);
}

void LabNode::start_keepalived(const std::string& vip, int priority) {
  write_file(dir_ + "/keepalived.conf", keepalived_config(dir_ + "/track", vip, priority));
  keepalived_ = std::make_unique<Process>(
      NetworkLab::in(ns_, {"/usr/sbin/keepalived", "-n", "-l", "-D", "--vrrp", "-f",
                           dir_ + "/keepalived.conf", "-p", dir_ + "/keepalived.pid", "-r",
                           dir_ + "/vrrp.pid", "-c", dir_ + "/checkers.pid"}),
      dir_ + "/keepalived.log");
}

bool LabNode::holds(const std::string& vip) const {
  std::string out;
  NetworkLab::shell_in(ns_, "/usr/sbin/ip -4 addr show dev eth0", &out);
  return out.find(vip + "/") != std::string::npos;
}

std::string LabNode::track() const {
  return read_file(dir_ + "/track");
}

ClusterLab::ClusterLab(int subnet, int etcd_members) : net_(subnet), dir_(make_temp_dir()) {
  if (!net_.ok() || !net_.add_switch_address(2)) return;
  etcd_ = std::make_unique<EtcdCluster>(etcd_members, net_.address(2),
                                        NetworkLab::in(net_.switch_namespace(), {}));
}

ClusterLab::~ClusterLab() {
  nodes_.clear();  // each node stops before the namespaces go
}

bool ClusterLab::possible(std::string* why) {
  if (!NetworkLab::available(why)) return false;
  if (!EtcdCluster::installed()) {
    *why = "etcd is not installed (scripts/install-deps.sh installs etcd-server)";
    return false;
  }
  return true;
}

bool ClusterLab::keepalived_installed() {
  return ::access("/usr/sbin/keepalived", X_OK) == 0;
}

std::string ClusterLab::import(const std::string& yaml) {
  write_file(dir_ + "/shared.yaml", yaml);
  std::string out;
  int status = NetworkLab::shell_in(net_.switch_namespace(),
                                    std::string(BALLAST_BINARY) + " cluster import -c " + dir_ +
                                        "/shared.yaml --etcd " + etcd_->endpoints(),
                                    &out);
  return status == 0 ? "" : out;
}

bool ClusterLab::add_node(int n, const std::string& zone) {
  std::string name = "lb-" + std::to_string(n);
  std::string node_dir = dir_ + "/" + name;
  std::filesystem::create_directories(node_dir);
  std::string yaml =
      "workers: 1\nshutdown_timeout: 2s\nadmin: { bind: 127.0.0.1:9901 }\n"
      "cluster:\n  node: " +
      name + "\n  zone: " + zone + "\n  state_dir: " + node_dir +
      "/state\n  etcd: { endpoints: " + etcd_->endpoints_yaml() + ", timeout: 1s }\n";
  nodes_.push_back(std::make_unique<LabNode>(net_, n, zone, yaml, node_dir));
  if (!net_.ok()) return false;
  nodes_.back()->start();
  return true;
}

LabNode& ClusterLab::node(int n) {
  for (auto& node : nodes_) {
    if (node->n() == n) return *node;
  }
  throw std::out_of_range("no node lb-" + std::to_string(n) + " in this lab");
}

std::set<std::string> in_service_ids(const json& group) {
  std::set<std::string> ids;
  if (!group.contains("instances")) return ids;
  for (const auto& i : group["instances"]) {
    if (i.value("state", "") == "InService") ids.insert(i.value("instance_id", ""));
  }
  return ids;
}

std::string status_from(const std::string& from, const std::string& address) {
  std::string out;
  NetworkLab::shell_in(
      from, "/usr/bin/curl -s -o /dev/null -w '%{http_code}' -m 2 http://" + address + ":8080/",
      &out);
  return out;
}

}  // namespace ballast::test
