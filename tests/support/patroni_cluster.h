#pragma once
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/etcd_server.h"
#include "support/process.h"

namespace ballast::test {

// A real PostgreSQL 15 cluster under Patroni (Debian's packages), members pg1..pgN on
// loopback ports picked at run time, their data in a fresh test folder, Patroni's keys in
// the given etcd. PostgreSQL refuses to run as root, so each Patroni runs as the
// `postgres` user (setpriv): the test must run as root. Settings are short for tests (ttl
// 6 s, loop_wait 1 s) and synchronous_mode is on, so an acknowledged commit survives a
// failover. Every process is killed when the cluster is destroyed.
class PatroniCluster {
 public:
  // `tags`: Patroni tags of some members, by position, as a YAML map ("{noloadbalance: true}").
  PatroniCluster(int members, const EtcdCluster& etcd, std::string scope = "main",
                 std::map<int, std::string> tags = {});
  ~PatroniCluster();
  PatroniCluster(const PatroniCluster&) = delete;
  PatroniCluster& operator=(const PatroniCluster&) = delete;

  // Patroni, PostgreSQL 15 and setpriv are installed, and this runs as root.
  static bool usable(std::string* why);

  // A primary confirmed and every other member a running replica, within `seconds`.
  bool ready(int seconds = 60);
  // The member whose agent answers 200 to /primary, or -1.
  int primary() const;
  // The synchronous standby as Patroni's /cluster lists it, or -1.
  int sync_standby() const;

  int size() const { return static_cast<int>(members_.size()); }
  std::string name(int i) const { return members_[i].name; }
  uint16_t pg_port(int i) const { return members_[i].pg_port; }
  uint16_t rest_port(int i) const { return members_[i].rest_port; }
  const std::string& scope() const { return scope_; }
  // The `members:` list of a databases entry, indented for "    members:".
  std::string members_yaml() const;
  // A libpq connection string to member i directly (superuser postgres, trust on loopback).
  std::string conninfo(int i) const;

  // Patroni's maintenance mode (PATCH /config {"pause": ...}), waited for on every member
  // within 10 s: Patroni then leaves PostgreSQL alone (it resumes a paused WAL replay on
  // PostgreSQL 14 and later otherwise).
  bool set_maintenance(bool on);

  void kill_postgres(int i);  // SIGKILL to the postmaster
  void kill_patroni(int i);   // SIGKILL to the agent (its PostgreSQL keeps running)
  void pause_patroni(int i);  // SIGSTOP: its REST API stops answering
  void resume_patroni(int i);
  void start_patroni(int i);
  std::string log(int i) const;

 private:
  struct Member {
    std::string name;
    uint16_t pg_port = 0;
    uint16_t rest_port = 0;
    std::string config;
    std::string data_dir;
    std::string log;
    std::string tags;
    std::unique_ptr<Process> agent;
  };
  pid_t postmaster(int i) const;
  int answering(const char* path) const;
  void write_config(const Member& m, const EtcdCluster& etcd);

  std::string dir_;
  std::string scope_;
  std::vector<Member> members_;
  int starts_ = 0;
};

}  // namespace ballast::test
