#pragma once
#include <cstdint>
#include <string>

#include "core/socket_address.h"

namespace ballast::nat {

// Which new connections to a writer endpoint the kernel can take straight to the primary
// by destination NAT, without a second TCP connection through ballast. The rest reach
// ballast's own listener on the same address and are relayed as before.
enum class NatReach : uint8_t {
  kNone,          // none: ballast relays every connection (NatPlan::why says why)
  kLocalClients,  // connections made on this host (the output hook)
  kAllClients,    // those and connections from other hosts (prerouting too)
};

struct NatPlan {
  NatReach reach = NatReach::kNone;
  std::string why;  // kNone, or what is left to the relay
};

// Decides from addresses alone (pure). `forwarding`: whether this host forwards packets of
// the primary's family (net.ipv4.ip_forward, net.ipv6.conf.all.forwarding), which
// connections from other hosts to a primary elsewhere need.
//
// - A primary on a loopback address is reached from this host's loopback only: the kernel
//   drops a packet from another host that NAT would send to 127.0.0.1.
// - A bind on a loopback address cannot reach a primary on another address: its packets
//   would leave with a loopback source, which the kernel refuses to route.
// - A primary of another address family than the bind's cannot be reached by NAT at all.
NatPlan plan_nat(const core::SocketAddress& bind, const core::SocketAddress& primary,
                 bool forwarding);

bool is_loopback(const core::SocketAddress& address);

// Whether this host forwards packets of `family` (AF_INET, AF_INET6), from /proc/sys.
bool host_forwards(int family);

}  // namespace ballast::nat
