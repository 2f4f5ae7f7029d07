#include "nat/nat_plan.h"

#include <arpa/inet.h>

#include <fstream>

namespace ballast::nat {

bool is_loopback(const core::SocketAddress& address) {
  if (address.family() == AF_INET) {
    uint32_t ip = ntohl(reinterpret_cast<const sockaddr_in*>(address.sa())->sin_addr.s_addr);
    return (ip >> 24) == 127;
  }
  if (address.family() == AF_INET6) {
    return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(address.sa())->sin6_addr);
  }
  return false;
}

bool host_forwards(int family) {
  std::ifstream in(family == AF_INET6 ? "/proc/sys/net/ipv6/conf/all/forwarding"
                                      : "/proc/sys/net/ipv4/ip_forward");
  int value = 0;
  return static_cast<bool>(in >> value) && value == 1;
}

NatPlan plan_nat(const core::SocketAddress& bind, const core::SocketAddress& primary,
                 bool forwarding) {
  // A wildcard bind on IPv6 takes IPv4 connections too (dual stack).
  bool family_ok =
      bind.family() == primary.family() || (bind.family() == AF_INET6 && bind.is_wildcard());
  if (!family_ok) {
    return {NatReach::kNone, "the primary " + primary.to_string() +
                                 " is of another address family than the bind " + bind.to_string()};
  }
  if (is_loopback(primary)) {
    if (!bind.is_wildcard() && !is_loopback(bind)) {
      return {NatReach::kNone, "the primary " + primary.to_string() +
                                   " is on a loopback address, which NAT reaches from the "
                                   "loopback only, and the bind " +
                                   bind.to_string() + " is not"};
    }
    std::string why;
    if (bind.is_wildcard()) {
      why = "connections to other addresses than the loopback are relayed: the primary " +
            primary.to_string() + " is on a loopback address";
    }
    return {NatReach::kLocalClients, why};
  }
  if (is_loopback(bind)) {
    return {NatReach::kNone, "the bind " + bind.to_string() +
                                 " is a loopback address and the primary " + primary.to_string() +
                                 " is not: NAT would send packets with a loopback source"};
  }
  std::string why;
  if (bind.is_wildcard()) {
    why =
        "connections to a loopback address are relayed: NAT would send them on with a "
        "loopback source";
  }
  if (!forwarding) {
    return {NatReach::kLocalClients,
            "connections from other hosts are relayed: this host does not forward packets "
            "(sysctl net.ipv4.ip_forward / net.ipv6.conf.all.forwarding)"};
  }
  return {NatReach::kAllClients, why};
}

}  // namespace ballast::nat
