#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "support/etcd_server.h"
#include "support/network_lab.h"
#include "support/process.h"

namespace ballast::test {

// A ballast node of a ClusterLab: `ballast run` in a network namespace of its own, with its
// admin API on 127.0.0.1:9901 there, and optionally keepalived beside it holding a virtual
// IP (VRRPv3, adverts every 100 ms), as examples/cluster/ configures it.
class LabNode {
 public:
  LabNode(NetworkLab& net, int n, std::string zone, std::string node_yaml, std::string dir);
  ~LabNode();
  LabNode(const LabNode&) = delete;
  LabNode& operator=(const LabNode&) = delete;

  void start();
  int n() const { return n_; }
  Process& process() { return *ballast_; }
  const std::string& ns() const { return ns_; }
  const std::string& zone() const { return zone_; }
  std::string name() const { return "lb-" + std::to_string(n_); }
  // The link name NetworkLab::set_link and block take.
  std::string host() const { return "n" + std::to_string(n_); }

  // GET `path` on the admin API; an empty object when it does not answer.
  nlohmann::json get(const std::string& path) const;
  nlohmann::json cluster() const { return get("/api/v1/cluster"); }
  nlohmann::json group(const std::string& name) const {
    return get("/api/v1/autoscaling-groups/" + name);
  }
  // `method` `path` with a JSON `body` on the admin API; the answer's status ("000": none).
  std::string send(const std::string& method, const std::string& path,
                   const std::string& body) const;
  bool leads() const;

  void start_keepalived(const std::string& vip, int priority);
  bool holds(const std::string& vip) const;
  std::string track() const;  // what ballast wrote in its keepalived track file

 private:
  int n_;
  std::string zone_;
  std::string ns_;
  std::string dir_;
  int starts_ = 0;
  std::unique_ptr<Process> ballast_;
  std::unique_ptr<Process> keepalived_;
};

// A cluster for failure drills, in network namespaces joined by one bridge (NetworkLab of
// 10.X.0.0/24): etcd of `etcd_members` on 10.X.0.2 in the switch namespace, and nodes lb-N
// at 10.X.0.(10+N), each in its own namespace "nN".
class ClusterLab {
 public:
  ClusterLab(int subnet, int etcd_members);
  ~ClusterLab();
  ClusterLab(const ClusterLab&) = delete;
  ClusterLab& operator=(const ClusterLab&) = delete;

  // Whether namespaces can be made here and etcd is installed; `why` says what is missing.
  static bool possible(std::string* why);
  static bool keepalived_installed();

  NetworkLab& net() { return net_; }
  EtcdCluster& etcd() { return *etcd_; }
  const std::string& dir() const { return dir_; }
  bool etcd_healthy() { return etcd_ && etcd_->healthy(); }
  // `ballast cluster import` of `yaml`, run in the switch namespace; "" or its output.
  std::string import(const std::string& yaml);
  // Adds lb-`n` in `zone` and starts it; false when its namespace could not be made.
  bool add_node(int n, const std::string& zone);
  LabNode& node(int n);

 private:
  NetworkLab net_;
  std::string dir_;
  std::unique_ptr<EtcdCluster> etcd_;
  std::vector<std::unique_ptr<LabNode>> nodes_;
};

// The ids of an autoscaling group's (its API answer's) instances in service.
std::set<std::string> in_service_ids(const nlohmann::json& group);

// The status of GET / from namespace `from` to http://`address`:8080/ ("000" when none).
std::string status_from(const std::string& from, const std::string& address);

}  // namespace ballast::test
