#include "support/patroni_cluster.h"

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/http_client.h"
#include "support/ports.h"
#include "support/test_env.h"

namespace ballast::test {

namespace {
constexpr const char* kPatroni = "/usr/bin/patroni";
constexpr const char* kPostgresBin = "/usr/lib/postgresql/15/bin";
constexpr const char* kSetpriv = "/usr/bin/setpriv";

// Gives the folder (and what is in it) to the postgres user.
void give_to_postgres(const std::string& path) {
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) return;
  if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) return;
  for (const auto& e : std::filesystem::recursive_directory_iterator(path)) {
    (void)::chown(e.path().c_str(), pw->pw_uid, pw->pw_gid);
  }
}

int http_status(uint16_t port, const std::string& path) {
  Client c(port, 1500);
  if (!c.connected()) return 0;
  auto r = c.get(path);
  return r ? r->status : 0;
}
}  // namespace

bool PatroniCluster::usable(std::string* why) {
  if (::geteuid() != 0) {
    *why = "needs root (each Patroni runs as the postgres user)";
  } else if (::access(kPatroni, X_OK) != 0 || ::access(kSetpriv, X_OK) != 0) {
    *why = "Patroni is not installed (scripts/install-deps.sh installs patroni)";
  } else if (::access((std::string(kPostgresBin) + "/postgres").c_str(), X_OK) != 0) {
    *why = "PostgreSQL 15 is not installed (scripts/install-deps.sh installs postgresql-15)";
  } else if (::getpwnam("postgres") == nullptr) {
    *why = "there is no postgres user (the postgresql-common package makes it)";
  } else {
    return true;
  }
  return false;
}

PatroniCluster::PatroniCluster(int members, const EtcdCluster& etcd, std::string scope,
                               std::map<int, std::string> tags)
    : dir_(make_temp_dir()), scope_(std::move(scope)) {
  // The postgres user walks into the folder and owns what is under it.
  ::chmod(dir_.c_str(), 0755);
  for (int i = 0; i < members; ++i) {
    Member m;
    m.name = "pg" + std::to_string(i + 1);
    m.pg_port = free_port();
    m.rest_port = free_port();
    m.config = dir_ + "/" + m.name + ".yml";
    m.data_dir = dir_ + "/" + m.name;
    m.log = dir_ + "/" + m.name + ".log";
    if (auto t = tags.find(i); t != tags.end()) m.tags = t->second;
    members_.push_back(std::move(m));
  }
  for (const auto& m : members_) write_config(m, etcd);
  give_to_postgres(dir_);
  // The first member bootstraps; the others then clone it.
  for (int i = 0; i < members; ++i) start_patroni(i);
}

PatroniCluster::~PatroniCluster() {
  for (int i = 0; i < size(); ++i) {
    if (members_[i].agent) {
      members_[i].agent->signal(SIGCONT);
      members_[i].agent.reset();  // SIGKILL
    }
    if (pid_t pm = postmaster(i); pm > 0) ::kill(pm, SIGKILL);
  }
}

void PatroniCluster::write_config(const Member& m, const EtcdCluster& etcd) {
  std::string hosts;
  for (const std::string& url : {etcd.client_url(0)}) hosts += url.substr(url.find("//") + 2);
  std::ofstream out(m.config);
  out << "scope: " << scope_ << "\nnamespace: /service/\nname: " << m.name << "\n"
      << "log: { level: INFO }\n"
      << "restapi: { listen: 127.0.0.1:" << m.rest_port
      << ", connect_address: 127.0.0.1:" << m.rest_port << " }\n"
      << "etcd3: { hosts: " << hosts << " }\n"
      << "bootstrap:\n"
      << "  dcs:\n"
      << "    ttl: 6\n    loop_wait: 1\n    retry_timeout: 2\n"
      << "    maximum_lag_on_failover: 1048576\n"
      << "    synchronous_mode: true\n"
      << "    postgresql:\n"
      << "      use_pg_rewind: true\n"
      << "      parameters: { wal_level: replica, hot_standby: 'on', max_wal_senders: 10, "
         "max_replication_slots: 10, wal_log_hints: 'on', max_connections: 200 }\n"
      << "  initdb: [ { encoding: UTF8 } ]\n"
      << "  pg_hba: [ 'host replication replicator 127.0.0.1/32 trust', "
         "'host all all 127.0.0.1/32 trust', 'local all all trust' ]\n"
      << "postgresql:\n"
      << "  listen: 127.0.0.1:" << m.pg_port << "\n"
      << "  connect_address: 127.0.0.1:" << m.pg_port << "\n"
      << "  data_dir: " << m.data_dir << "\n"
      << "  bin_dir: " << kPostgresBin << "\n"
      << "  pgpass: " << dir_ << "/" << m.name << ".pgpass\n"
      << "  authentication:\n"
      << "    replication: { username: replicator, password: rep }\n"
      << "    superuser: { username: postgres, password: pg }\n"
      << "  parameters: { unix_socket_directories: '" << dir_ << "' }\n";
  if (!m.tags.empty()) out << "tags: " << m.tags << "\n";
}

void PatroniCluster::start_patroni(int i) {
  Member& m = members_[i];
  m.agent = std::make_unique<Process>(
      std::vector<std::string>{kSetpriv, "--reuid=postgres", "--regid=postgres", "--init-groups",
                               "--reset-env", kPatroni, m.config},
      m.log + "." + std::to_string(++starts_));
}

std::string PatroniCluster::log(int i) const {
  std::string out;
  for (int s = 1; s <= starts_; ++s) {
    std::string path = members_[i].log + "." + std::to_string(s);
    if (std::filesystem::exists(path)) out += read_file(path);
  }
  return out;
}

int PatroniCluster::answering(const char* path) const {
  for (int i = 0; i < size(); ++i) {
    if (http_status(members_[i].rest_port, path) == 200) return i;
  }
  return -1;
}

int PatroniCluster::primary() const {
  return answering("/primary");
}

int PatroniCluster::sync_standby() const {
  // From /cluster: /sync answers 503 for a synchronous standby tagged noloadbalance.
  for (const auto& m : members_) {
    Client c(m.rest_port, 1500);
    auto r = c.connected() ? c.get("/cluster") : std::nullopt;
    if (!r || r->status != 200) continue;
    nlohmann::json doc = nlohmann::json::parse(r->body, nullptr, false);
    if (!doc.is_object() || !doc.contains("members") || !doc["members"].is_array()) continue;
    for (const auto& member : doc["members"]) {
      if (member.value("role", "") != "sync_standby") continue;
      for (int i = 0; i < size(); ++i) {
        if (members_[i].name == member.value("name", "")) return i;
      }
    }
    return -1;
  }
  return -1;
}

bool PatroniCluster::ready(int seconds) {
  return within(seconds, [&] {
    int p = primary();
    if (p < 0) return false;
    for (int i = 0; i < size(); ++i) {
      // /health: running (a noloadbalance member answers 503 to /replica).
      if (i != p && http_status(members_[i].rest_port, "/health") != 200) return false;
    }
    return sync_standby() >= 0;
  });
}

bool PatroniCluster::set_maintenance(bool on) {
  std::string body = std::string("{\"pause\": ") + (on ? "true" : "false") + "}";
  Client c(members_[0].rest_port, 5000);
  if (!c.connected()) return false;
  c.send_raw(
      "PATCH /config HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  auto r = c.read_response();
  if (!r || r->status != 200) return false;
  return within(10, [&] {
    for (const auto& m : members_) {
      Client s(m.rest_port, 1500);
      auto status = s.connected() ? s.get("/patroni") : std::nullopt;
      if (!status) return false;
      bool paused = status->body.find("\"pause\": true") != std::string::npos;
      if (paused != on) return false;
    }
    return true;
  });
}

std::string PatroniCluster::members_yaml() const {
  std::string out;
  for (const auto& m : members_) {
    out += "      - { name: " + m.name + ", address: 127.0.0.1:" + std::to_string(m.pg_port) +
           ", rest: http://127.0.0.1:" + std::to_string(m.rest_port) + " }\n";
  }
  return out;
}

std::string PatroniCluster::conninfo(int i) const {
  return "host=127.0.0.1 port=" + std::to_string(members_[i].pg_port) +
         " user=postgres dbname=postgres connect_timeout=5";
}

pid_t PatroniCluster::postmaster(int i) const {
  std::ifstream in(members_[i].data_dir + "/postmaster.pid");
  long pid = 0;
  if (!(in >> pid)) return -1;
  return static_cast<pid_t>(pid);
}

void PatroniCluster::kill_postgres(int i) {
  if (pid_t pm = postmaster(i); pm > 0) ::kill(pm, SIGKILL);
}

void PatroniCluster::kill_patroni(int i) {
  if (!members_[i].agent) return;
  members_[i].agent->signal(SIGKILL);
  members_[i].agent->wait_exit(5000);
}

void PatroniCluster::pause_patroni(int i) {
  if (members_[i].agent) members_[i].agent->signal(SIGSTOP);
}

void PatroniCluster::resume_patroni(int i) {
  if (members_[i].agent) members_[i].agent->signal(SIGCONT);
}

}  // namespace ballast::test
