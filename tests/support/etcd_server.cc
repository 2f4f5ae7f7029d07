#include "support/etcd_server.h"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/ports.h"
#include "support/test_env.h"
#include "support/test_pki.h"

namespace ballast::test {

namespace {
constexpr const char* kEtcd = "/usr/bin/etcd";
constexpr const char* kEtcdctl = "/usr/bin/etcdctl";

std::string run_capture(const std::string& command, int* status) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) {
    *status = -1;
    return out;
  }
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  *status = ::pclose(p);
  return out;
}

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}
}  // namespace

std::string EtcdCluster::exec_prefix() const {
  std::string out;
  for (const auto& a : exec_prefix_) out += a + " ";
  return out;
}

bool EtcdCluster::installed() {
  return ::access(kEtcd, X_OK) == 0 && ::access(kEtcdctl, X_OK) == 0;
}

EtcdCluster::EtcdCluster(int members) : EtcdCluster(members, "127.0.0.1", {}) {}

void EtcdCluster::add_members(int members) {
  for (int i = 0; i < members; ++i) {
    Member m;
    m.name = "etcd" + std::to_string(i);
    m.client_port = free_port();
    m.peer_port = free_port();
    members_.push_back(std::move(m));
  }
}

EtcdCluster::EtcdCluster(int members, std::string host, std::vector<std::string> exec_prefix)
    : dir_(make_temp_dir()), host_(std::move(host)), exec_prefix_(std::move(exec_prefix)) {
  add_members(members);
  recreate();
}

EtcdCluster::EtcdCluster(int members, Secured secured)
    : dir_(make_temp_dir()), secured_(std::move(secured)) {
  TestPki pki(dir_, "etcd test CA");
  TestPki::Options server;
  server.ip_addresses = {host_};
  server.server_and_client = true;  // etcd's gateway dials etcd itself with this certificate
  TestPki::Issued s = pki.issue("etcd", {"localhost"}, server);
  TestPki::Options client;
  client.client = true;
  // No CommonName: etcd's JSON gateway refuses a client certificate that has one when
  // client certificates are required (it could not pass the name on as the user).
  TestPki::Issued c = pki.issue("", {}, client);
  ca_file_ = pki.ca_file();
  server_cert_ = s.cert;
  server_key_ = s.key;
  client_cert_ = c.cert;
  client_key_ = c.key;
  add_members(members);
  recreate();
  if (healthy()) enable_auth();
}

// The root user (etcd wants it before auth goes on), and a user with a role for the prefix.
void EtcdCluster::enable_auth() {
  const Secured& s = *secured_;
  for (const std::string& step :
       {std::string("user add root --new-user-password=root-secret"),
        std::string("user grant-role root root"), std::string("role add client"),
        "role grant-permission client --prefix=true readwrite " + s.prefix + "/",
        "user add " + s.user + " --new-user-password=" + s.password,
        "user grant-role " + s.user + " client", std::string("auth enable")}) {
    ctl(step);
  }
  auth_on_ = true;
}

EtcdCluster::~EtcdCluster() {
  stop_all();
}

std::string EtcdCluster::initial_cluster() const {
  std::string out;
  for (const auto& m : members_) {
    if (!out.empty()) out += ",";
    out += m.name + "=http://" + host_ + ":" + std::to_string(m.peer_port);
  }
  return out;
}

void EtcdCluster::recreate() {
  stop_all();
  ++generation_;
  token_ = "ballast-test-" + std::to_string(::getpid()) + "-" + std::to_string(generation_);
  for (auto& m : members_) {
    m.data_dir = dir_ + "/" + m.name + "-" + std::to_string(generation_);
    std::filesystem::remove_all(m.data_dir);
  }
  for (size_t i = 0; i < members_.size(); ++i) start(static_cast<int>(i));
}

void EtcdCluster::start(int member) {
  Member& m = members_[static_cast<size_t>(member)];
  std::string client = scheme() + "://" + host_ + ":" + std::to_string(m.client_port);
  std::string peer = "http://" + host_ + ":" + std::to_string(m.peer_port);
  std::vector<std::string> argv = exec_prefix_;
  // Short heartbeats so that a lost member is noticed within a test's patience.
  for (const std::string& a : {std::string(kEtcd),
                               std::string("--name"),
                               m.name,
                               std::string("--data-dir"),
                               m.data_dir,
                               std::string("--listen-client-urls"),
                               client,
                               std::string("--advertise-client-urls"),
                               client,
                               std::string("--listen-peer-urls"),
                               peer,
                               std::string("--initial-advertise-peer-urls"),
                               peer,
                               std::string("--initial-cluster"),
                               initial_cluster(),
                               std::string("--initial-cluster-token"),
                               token_,
                               std::string("--initial-cluster-state"),
                               std::string("new"),
                               std::string("--heartbeat-interval"),
                               std::string("100"),
                               std::string("--election-timeout"),
                               std::string("1000"),
                               std::string("--log-level"),
                               std::string("warn")}) {
    argv.push_back(a);
  }
  if (secured_) {
    for (const std::string& a :
         {std::string("--cert-file"), server_cert_, std::string("--key-file"), server_key_,
          std::string("--trusted-ca-file"), ca_file_, std::string("--client-cert-auth"),
          std::string("--auth-token"), std::string("simple"), std::string("--auth-token-ttl"),
          std::to_string(secured_->token_ttl_s)}) {
      argv.push_back(a);
    }
  }
  m.process = std::make_unique<Process>(argv, dir_ + "/" + m.name + ".log");
}

void EtcdCluster::kill(int member) {
  Member& m = members_[static_cast<size_t>(member)];
  if (m.process && m.process->running()) {
    m.process->signal(SIGKILL);
    m.process->wait_exit(5000);
  }
}

void EtcdCluster::stop(int member) {
  Member& m = members_[static_cast<size_t>(member)];
  if (m.process && m.process->running()) {
    m.process->signal(SIGTERM);
    if (m.process->wait_exit(10000) < 0) kill(member);
  }
}

void EtcdCluster::stop_all() {
  for (size_t i = 0; i < members_.size(); ++i) stop(static_cast<int>(i));
}

bool EtcdCluster::healthy(int seconds) {
  return within(seconds, [&] { return ctl("endpoint health").has_value(); });
}

std::string EtcdCluster::client_url(int member) const {
  return scheme() + "://" + host_ + ":" +
         std::to_string(members_[static_cast<size_t>(member)].client_port);
}

std::string EtcdCluster::endpoints() const {
  std::string out;
  for (size_t i = 0; i < members_.size(); ++i) {
    out += (out.empty() ? "" : ",") + client_url(static_cast<int>(i));
  }
  return out;
}

std::string EtcdCluster::endpoints_yaml() const {
  return "[" + replace_all(endpoints(), ",", ", ") + "]";
}

std::optional<std::string> EtcdCluster::ctl(const std::string& args) const {
  int status = 0;
  std::string out = run_capture(
      exec_prefix() + "env ETCDCTL_API=3 " + std::string(kEtcdctl) +
          " --dial-timeout=1s --command-timeout=3s --endpoints=" + endpoints() +
          (secured_ ? " --cacert=" + ca_file_ + " --cert=" + client_cert_ +
                          " --key=" + client_key_ + (auth_on_ ? " --user=root:root-secret" : "")
                    : std::string()) +
          " " + args + " 2>/dev/null",
      &status);
  if (status != 0) return std::nullopt;
  return out;
}

std::optional<std::string> EtcdCluster::get(const std::string& key) const {
  auto out = ctl("get --print-value-only " + quoted(key));
  if (!out || out->empty()) return std::nullopt;
  if (out->back() == '\n') out->pop_back();
  return out;
}

bool EtcdCluster::put(const std::string& key, const std::string& value) const {
  return ctl("put " + quoted(key) + " " + quoted(value)).has_value();
}

int64_t EtcdCluster::revision() const {
  auto out = ctl("get / --prefix --keys-only --limit=1 -w json");
  if (!out) return 0;
  auto j = nlohmann::json::parse(*out, nullptr, false);
  if (!j.is_object()) return 0;
  return j["header"].value("revision", int64_t{0});
}

bool EtcdCluster::compact(int64_t revision) const {
  return ctl("compaction " + std::to_string(revision)).has_value();
}

}  // namespace ballast::test
