#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "nat/nat_ruleset.h"

struct nft_ctx;

namespace ballast::nat {

// ballast's nftables table ("ballast_PID"), through libnftables, on the control thread.
// The table is owned by this object's netlink socket: the kernel deletes it, rules and all,
// when the socket closes, at the latest when the process ends however it ends. So NAT never
// sends a connection anywhere on its own after ballast stops deciding: with ballast gone,
// new connections to a writer's address find no listener and are refused.
class NatTable {
 public:
  // nullptr and *why when the kernel refuses (no CAP_NET_ADMIN, no nf_tables).
  static std::unique_ptr<NatTable> create(std::string* why);
  ~NatTable();
  NatTable(const NatTable&) = delete;
  NatTable& operator=(const NatTable&) = delete;

  const std::string& name() const { return name_; }
  // Replaces every rule with `routes` in one transaction. `counters`: every counter to keep
  // (a writer that has no route right now keeps its total); others are deleted. Returns
  // false and *why when the kernel refused (the rules are as they were).
  bool set_routes(const std::vector<NatRoute>& routes, const std::vector<std::string>& counters,
                  std::string* why);
  // Connections each counter has counted; empty on failure.
  std::map<std::string, uint64_t> connections();

 private:
  NatTable(nft_ctx* ctx, std::string name) : ctx_(ctx), name_(std::move(name)) {}
  bool run(const std::string& script, std::string* why);

  nft_ctx* ctx_;
  std::string name_;
  std::set<std::string> counters_;
  std::string applied_;  // the last script run, so an unchanged set costs no netlink
};

// Deletes the conntrack entries of connections NATed from `bind` to `member`. A packet of
// such a connection then finds no NAT binding: from the client it reaches this host's
// listener (or a new primary) as a stray segment and is answered with a reset; from the
// member it reaches no socket here and is reset too. So nothing more of those sessions
// reaches the member through ballast's rules. Returns the number deleted, or -1 and *why.
int cut_nat_flows(const core::SocketAddress& bind, const core::SocketAddress& member,
                  std::string* why);

}  // namespace ballast::nat
