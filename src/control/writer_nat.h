#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "db/database_monitor.h"
#include "nat/nat_table.h"

namespace ballast::control {

// The writer endpoints of databases with `relay: nat` (docs/databases.md): ballast's
// nftables rules send each writer's new connections straight to its confirmed primary. While
// there is none, or a switchover holds new connections, the writer has no rule: connections
// then reach ballast's own listener on the same address, which holds them and relays them.
// When a member becomes fenced, the flows NATed to it are cut. On the control thread.
class WriterNat {
 public:
  WriterNat() = default;
  WriterNat(const WriterNat&) = delete;
  WriterNat& operator=(const WriterNat&) = delete;

  // Brings the database's rule in line with what its monitor decided. Called before the
  // workers hear of the same decision, so a switchover's hold takes the rule away before
  // Patroni is asked.
  void follow(const db::DatabaseMonitor& monitor);
  // Databases not in `names` (gone, or no longer `relay: nat`) lose their rules.
  void keep_only(const std::set<std::string>& names);

  struct View {
    bool steering = false;  // a rule sends new connections to `primary`
    std::string primary;
    std::string reach;         // "local" (this host's clients) or "all"
    std::string why;           // what the rule leaves to the relay, or why there is none
    uint64_t connections = 0;  // connections the rule sent, in all
    uint64_t cut_flows = 0;    // flows cut because their member was fenced
  };
  // Every writer's, by database name (one look at the kernel's counters for all).
  std::map<std::string, View> views() const;

 private:
  struct Writer {
    core::SocketAddress bind;
    std::optional<nat::NatRoute> route;
    std::string primary;  // the member's name, while routed
    std::string why;
    std::set<std::string> fenced;  // member addresses, as of the last follow()
    uint64_t cut_flows = 0;
  };
  bool ready();
  std::optional<nat::NatRoute> route_for(const db::DatabaseMonitor& monitor, std::string* why);
  void cut_fenced(const db::DatabaseMonitor& monitor, Writer& w);
  void apply();
  static std::string counter_of(const std::string& database) { return "w_" + database; }

  std::unique_ptr<nat::NatTable> table_;
  std::string refusal_;  // why the kernel refused the table (then nothing is NATed)
  std::map<std::string, Writer> writers_;
};

}  // namespace ballast::control
