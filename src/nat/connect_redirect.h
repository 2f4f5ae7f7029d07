#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/socket_address.h"

struct bpf_object;
struct bpf_link;

namespace ballast::nat {

// The connect() redirect for this host's clients of a writer endpoint (relay: nat): eBPF
// programs on the root cgroup (v2) that rewrite a TCP connect() to a writer's bind into a
// connect() to its primary, so the connection is the client's own to PostgreSQL, with no
// proxy and no NAT on its path. getpeername() still shows the bind. See
// connect_redirect.bpf.c.
//
// The programs are attached through links that close with this object (with the process,
// however it ends): a redirect never outlives ballast.
class ConnectRedirect {
 public:
  // nullptr and *why when the kernel refuses (no CAP_BPF / CAP_NET_ADMIN, no cgroup v2).
  static std::unique_ptr<ConnectRedirect> load(std::string* why);
  ~ConnectRedirect();
  ConnectRedirect(const ConnectRedirect&) = delete;
  ConnectRedirect& operator=(const ConnectRedirect&) = delete;

  // Replaces the routes: each local address a writer's bind stands for -> its primary. A
  // bind that leaves has its count dropped.
  struct Route {
    core::SocketAddress from;  // a specific address (a wildcard bind: one route per address)
    core::SocketAddress to;
  };
  bool set_routes(const std::vector<Route>& routes, std::string* why);
  // Connects redirected through the route from `from` while it existed, in all.
  uint64_t connections(const core::SocketAddress& from) const;
  // Closes every redirected socket whose connection went to `member` (it was fenced): the
  // client's next call fails and PostgreSQL's side gets a reset. Returns how many; *why is
  // set when some could not be closed (the rest are).
  int close_flows_to(const core::SocketAddress& member, std::string* why);
  // Forgets the flows of sockets that no longer exist; returns how many remain tracked.
  size_t sweep();

 private:
  ConnectRedirect() = default;
  bpf_object* object_ = nullptr;
  std::vector<bpf_link*> links_;
  int routes_fd_ = -1;
  int flows_fd_ = -1;
  std::vector<Route> routes_;
  // Counts of routes removed meanwhile (a switchover's hold), by address: a route that
  // comes back goes on from its total.
  std::map<std::string, uint64_t> retired_;
};

}  // namespace ballast::nat
