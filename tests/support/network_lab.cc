#include "support/network_lab.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "support/test_env.h"
#include "support/test_pki.h"

namespace ballast::test {

namespace {
constexpr const char* kIp = "/usr/sbin/ip";
}

bool NetworkLab::available(std::string* why) {
  if (::geteuid() != 0) {
    *why = "network namespaces need root";
    return false;
  }
  if (::access(kIp, X_OK) != 0) {
    *why = "iproute2 (/usr/sbin/ip) is not installed";
    return false;
  }
  std::string probe = "ballast-probe-" + std::to_string(::getpid());
  std::string log = make_temp_dir() + "/probe.log";
  if (run_shell(std::string(kIp) + " netns add " + probe, log) != 0) {
    *why = "this machine does not allow network namespaces: " + read_file(log);
    return false;
  }
  run_shell(std::string(kIp) + " netns del " + probe, log);
  return true;
}

NetworkLab::NetworkLab(int subnet)
    : subnet_(subnet), prefix_("bl" + std::to_string(::getpid() % 100000) + "-") {
  std::string sw = switch_namespace();
  // A bridge takes the lowest MAC of its ports unless given one: each host added later
  // could change it under the hosts that cached it, cutting them off from the bridge's own
  // addresses (etcd, the switch's servers) until their neighbour entries expire.
  char mac[32];
  snprintf(mac, sizeof(mac), "02:00:0a:%02x:00:01", subnet_ & 0xff);
  ok_ = run("netns add " + sw) && run("-n " + sw + " link set lo up") &&
        run("-n " + sw + " link add br0 type bridge") &&
        run("-n " + sw + " link set br0 address " + mac) && run("-n " + sw + " link set br0 up") &&
        run("-n " + sw + " addr add " + address(1) + "/24 dev br0");
  if (ok_) namespaces_.push_back(sw);
}

NetworkLab::~NetworkLab() {
  std::string log = make_temp_dir() + "/cleanup.log";
  for (auto it = namespaces_.rbegin(); it != namespaces_.rend(); ++it) {
    run_shell(std::string(kIp) + " netns pids " + *it + " | xargs -r kill -9", log);
    run_shell(std::string(kIp) + " netns del " + *it, log);
  }
}

bool NetworkLab::run(const std::string& command) {
  std::string log = make_temp_dir() + "/ip.log";
  if (run_shell(std::string(kIp) + " " + command, log) == 0) return true;
  error_ = "ip " + command + ": " + read_file(log);
  return false;
}

std::string NetworkLab::address(int host) const {
  return "10." + std::to_string(subnet_) + ".0." + std::to_string(host);
}

std::string NetworkLab::add_host(const std::string& name, int host) {
  std::string ns = prefix_ + name;
  std::string veth = prefix_ + name + "v";  // the bridge's end (15 characters at most)
  bool done = run("netns add " + ns);
  if (done) namespaces_.push_back(ns);
  done = done && run("-n " + ns + " link set lo up") &&
         run("link add " + veth + " type veth peer name eth0 netns " + ns) &&
         run("link set " + veth + " netns " + switch_namespace()) &&
         run("-n " + switch_namespace() + " link set " + veth + " master br0") &&
         run("-n " + switch_namespace() + " link set " + veth + " up") &&
         run("-n " + ns + " link set eth0 up") &&
         run("-n " + ns + " addr add " + address(host) + "/24 dev eth0");
  ok_ = ok_ && done;
  return ns;
}

bool NetworkLab::set_link(const std::string& name, bool up) {
  return run("-n " + switch_namespace() + " link set " + prefix_ + name + "v " +
             (up ? "up" : "down"));
}

bool NetworkLab::add_switch_address(int host) {
  return run("-n " + switch_namespace() + " addr add " + address(host) + "/24 dev br0");
}

bool NetworkLab::block(const std::string& name, const std::string& address, bool blocked) {
  return run("-n " + prefix_ + name + " route " + (blocked ? "add" : "del") + " blackhole " +
             address + "/32");
}

int NetworkLab::shell_in(const std::string& ns, const std::string& command, std::string* out) {
  static const std::string dir = make_temp_dir();  // one folder for every call's output
  std::string log = dir + "/shell.log";
  int status = run_shell(std::string(kIp) + " netns exec " + ns + " " + command, log);
  *out = read_file(log);
  return status;
}

std::vector<std::string> NetworkLab::in(const std::string& ns, std::vector<std::string> argv) {
  std::vector<std::string> out = {kIp, "netns", "exec", ns};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

}  // namespace ballast::test
