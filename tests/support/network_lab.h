#pragma once
#include <string>
#include <vector>

namespace ballast::test {

// Linux network namespaces joined by one bridge, for failure drills: each host gets its own
// namespace with a veth to the bridge and an address in 10.X.0.0/24 (the bridge is .1 in its
// own namespace, which also holds shared servers). Needs root; available() says whether
// this machine allows it. Everything is removed when the lab goes, processes inside
// included.
class NetworkLab {
 public:
  // `subnet`: X in 10.X.0.0/24, distinct per test program.
  explicit NetworkLab(int subnet);
  ~NetworkLab();
  NetworkLab(const NetworkLab&) = delete;
  NetworkLab& operator=(const NetworkLab&) = delete;

  // Whether namespaces can be made here (root, iproute2); `why` says what is missing.
  static bool available(std::string* why);
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

  // Adds a host with the last address byte `host` (2..254); its namespace's name.
  std::string add_host(const std::string& name, int host);
  std::string address(int host) const;  // "10.X.0.host"
  std::string switch_namespace() const { return prefix_ + "sw"; }
  // argv that runs `argv` inside namespace `ns`.
  static std::vector<std::string> in(const std::string& ns, std::vector<std::string> argv);
  // Cuts (or restores) a host's link to the bridge.
  bool set_link(const std::string& name, bool up);
  // Another address on the bridge, for a second shared server (10.X.0.host).
  bool add_switch_address(int host);
  // Makes `address` unreachable from host `name` (a blackhole route), or reachable again:
  // a partition between two hosts that both still reach everything else.
  bool block(const std::string& name, const std::string& address, bool blocked);
  // Runs a shell command inside namespace `ns`; its exit status, and its output in `out`.
  static int shell_in(const std::string& ns, const std::string& command, std::string* out);

 private:
  bool run(const std::string& command);
  int subnet_;
  std::string prefix_;
  std::vector<std::string> namespaces_;
  bool ok_ = true;
  std::string error_;
};

}  // namespace ballast::test
