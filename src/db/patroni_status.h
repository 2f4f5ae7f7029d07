#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ballast::db {

// What a PostgreSQL member is, as its Patroni agent says.
enum class Role : uint8_t { kUnknown, kPrimary, kReplica, kStandbyLeader };
const char* to_string(Role role);

// One answer of Patroni's REST API to `GET /primary`: the status JSON it gives on every
// health endpoint, and the endpoint's verdict (200: this agent holds the leader key in its
// DCS and runs PostgreSQL as the primary; 503: anything else). Only that verdict confirms
// a primary: a member's own `role` says what PostgreSQL runs as, which a primary that lost
// its leader key still does until Patroni demotes it.
struct PatroniStatus {
  bool confirmed_primary = false;  // /primary answered 200
  Role role = Role::kUnknown;
  std::string state;  // Patroni's PostgreSQL state: "running", "starting", "stopped", ...
  std::string scope;  // the Patroni cluster the agent belongs to
  uint64_t timeline = 0;
  // WAL positions (bytes, as pg_lsn's numeric value). A primary reports where it writes;
  // a replica where it has received and replayed up to.
  uint64_t wal_position = 0;  // primary: xlog.location
  uint64_t received = 0;      // replica: xlog.received_location
  uint64_t replayed = 0;      // replica: xlog.replayed_location
  bool replay_paused = false;
  bool nofailover = false;        // tags: never promoted by Patroni
  bool noloadbalance = false;     // tags: takes no read traffic
  bool cluster_unlocked = false;  // the agent sees no leader key at all
  // A primary: the members streaming from it (`replication`'s application_name, which
  // Patroni sets to the member's name, where state is "streaming").
  std::vector<std::string> streaming;
  bool running() const { return state == "running"; }
};

// Reads the answer's status and JSON body. Returns nothing, and says why in `error`, when
// the body is not Patroni's status (not JSON, no role and state, a wrong field type), so a
// member that answers garbage is unknown rather than anything it might seem to claim.
std::optional<PatroniStatus> parse_patroni_status(int http_status, std::string_view body,
                                                  std::string* error);

}  // namespace ballast::db
