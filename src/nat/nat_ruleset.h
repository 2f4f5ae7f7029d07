#pragma once
#include <string>
#include <vector>

#include "core/socket_address.h"
#include "nat/nat_plan.h"

namespace ballast::nat {

// One writer endpoint whose new connections the kernel takes to its primary.
struct NatRoute {
  std::string counter;  // the named counter its rules count connections in
  core::SocketAddress bind;
  core::SocketAddress primary;
  NatReach reach = NatReach::kLocalClients;  // kLocalClients or kAllClients
  bool operator==(const NatRoute&) const = default;
};

// nft scripts for ballast's table (pure, so the rules are tested as text):
// - table_script() makes the table, owned by the netlink socket that runs it (the kernel
//   removes it when that socket closes, so the rules never outlive ballast), and its three
//   NAT chains.
// - routes_script() replaces every rule in one transaction: the DNAT rules, which see only
//   a connection's first packet (so their counters count connections), and the masquerade
//   that makes a primary on another host answer through this one. Counters are added for
//   `routes` and `keep` (their totals survive a time without a route), and `drop` ones
//   deleted.
std::string table_script(const std::string& table);
std::string routes_script(const std::string& table, const std::vector<NatRoute>& routes,
                          const std::vector<std::string>& keep,
                          const std::vector<std::string>& drop);

}  // namespace ballast::nat
