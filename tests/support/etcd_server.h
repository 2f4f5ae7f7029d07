#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/process.h"

namespace ballast::test {

// A real etcd (Debian's etcd-server) of one or more members on loopback, each with its own
// data folder under a fresh test directory. Test-side reads and writes go through etcdctl,
// a client independent of ballast's own.
class EtcdCluster {
 public:
  explicit EtcdCluster(int members = 1);
  // A secured etcd, as production runs one: clients over TLS with a client certificate
  // (its own test CA), and authentication on, with `user` allowed read-write under
  // `prefix` only. Tokens last `token_ttl_s` (etcd's default: 300). etcdctl uses root.
  struct Secured {
    std::string user = "ballast";
    std::string password = "ballast-secret";
    std::string prefix;
    int token_ttl_s = 300;
  };
  EtcdCluster(int members, Secured secured);
  // Secured only: the files a client needs.
  std::string ca_file() const { return ca_file_; }
  std::string client_cert() const { return client_cert_; }
  std::string client_key() const { return client_key_; }
  // On `host` instead of 127.0.0.1, each member (and etcdctl) run through `exec_prefix`
  // (NetworkLab::in(ns, {}): inside a network namespace).
  EtcdCluster(int members, std::string host, std::vector<std::string> exec_prefix);
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  static bool installed();
  // Every member answers its health endpoint (bounded by `seconds`).
  bool healthy(int seconds = 15);
  // "http://127.0.0.1:P,..." and the YAML list "[http://..., ...]".
  std::string endpoints() const;
  std::string endpoints_yaml() const;
  std::string client_url(int member) const;

  void kill(int member);   // SIGKILL
  void stop(int member);   // SIGTERM, waited for
  void start(int member);  // again, on its data folder
  void stop_all();
  // Wipes every member's data and starts a new cluster (another cluster id, revisions
  // from 1): a store restored from nothing.
  void recreate();

  // etcdctl; the output, or nullopt when it failed.
  std::optional<std::string> ctl(const std::string& args) const;
  std::optional<std::string> get(const std::string& key) const;
  bool put(const std::string& key, const std::string& value) const;
  int64_t revision() const;
  bool compact(int64_t revision) const;

 private:
  struct Member {
    std::string name;
    uint16_t client_port = 0;
    uint16_t peer_port = 0;
    std::string data_dir;
    std::unique_ptr<Process> process;
  };
  void add_members(int members);
  std::string initial_cluster() const;
  std::string exec_prefix() const;  // for a shell command
  std::string dir_;
  std::string host_ = "127.0.0.1";
  std::vector<std::string> exec_prefix_;
  std::string token_;
  int generation_ = 0;
  std::optional<Secured> secured_;
  bool auth_on_ = false;
  std::string ca_file_, server_cert_, server_key_, client_cert_, client_key_;
  std::string scheme() const { return secured_ ? "https" : "http"; }
  void enable_auth();
  std::vector<Member> members_;
};

}  // namespace ballast::test
