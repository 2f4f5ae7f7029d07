#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "db/database_monitor.h"
#include "nat/connect_redirect.h"
#include "nat/nat_table.h"

namespace ballast::control {

// The writer endpoints of databases with `relay: nat` (docs/databases.md#relay-nat): their
// new connections go straight to the confirmed primary, without a proxy. This host's
// clients' connect() is redirected to the primary (nat::ConnectRedirect); other hosts'
// connections are sent by a DNAT rule (nat::NatTable) where the kernel can carry them. While
// there is no primary, or a switchover holds new connections, neither applies: connections
// then reach ballast's own listener on the same address, which holds and relays them. When a
// member becomes fenced, the connections sent to it either way are closed. On the control
// thread.
class WriterNat {
 public:
  WriterNat() = default;
  WriterNat(const WriterNat&) = delete;
  WriterNat& operator=(const WriterNat&) = delete;

  // Brings the database's redirect and rule in line with what its monitor decided. Called
  // before the workers hear of the same decision, so a switchover's hold takes them away
  // before Patroni is asked.
  void follow(const db::DatabaseMonitor& monitor);
  // Databases not in `names` (gone, or no longer `relay: nat`) lose theirs.
  void keep_only(const std::set<std::string>& names);
  // Forgets redirected sockets that have closed (a minute's work for the control thread's
  // clock, not per connection).
  void sweep();

  struct View {
    bool steering = false;  // new connections go to `primary` without ballast
    std::string primary;
    bool local_redirect = false;  // this host's clients are redirected at connect()
    std::string reach;            // the DNAT rule's: "local", "all" or "" (none)
    std::string why;              // what is left to ballast's listener, and why
    uint64_t connections = 0;     // sent to the primary without ballast, in all
    uint64_t redirected = 0;      // of which redirected at connect() (the rest: NATed)
    uint64_t cut_flows = 0;       // closed because their member was fenced
  };
  // Every writer's, by database name.
  std::map<std::string, View> views() const;

 private:
  struct Writer {
    core::SocketAddress bind;
    std::string primary;  // the member's name, while steering
    std::optional<core::SocketAddress> primary_address;
    std::optional<nat::NatRoute> route;  // the DNAT rule
    // The addresses the redirect took for the bind when it last had a primary: the
    // writer's redirected connections are counted under them.
    std::vector<core::SocketAddress> redirected_from;
    std::string why;
    std::set<std::string> fenced;  // member addresses, as of the last follow()
    uint64_t cut_flows = 0;
  };
  bool ready();
  // The primary's address when new connections may go to it now; else why not.
  std::optional<core::SocketAddress> target_of(const db::DatabaseMonitor& monitor,
                                               std::string* why) const;
  void cut_fenced(const db::DatabaseMonitor& monitor, Writer& w);
  void apply();
  // The addresses a bind stands for, for the redirect (a wildcard: each of this host's).
  static std::vector<core::SocketAddress> local_addresses(const core::SocketAddress& bind);
  static std::string counter_of(const std::string& database) { return "w_" + database; }

  std::unique_ptr<nat::NatTable> table_;
  std::unique_ptr<nat::ConnectRedirect> redirect_;
  bool loaded_ = false;
  std::string table_refusal_, redirect_refusal_;
  std::map<std::string, Writer> writers_;
};

}  // namespace ballast::control
