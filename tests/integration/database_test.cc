// Database endpoints in front of a real Patroni cluster (PostgreSQL 15, Patroni and etcd from
// Debian, started here on loopback): the writer follows a primary's crash and a failover
// with no acknowledged insert lost, a lagging replica stops getting reads and gets them back,
// a planned switchover fails no connection attempt, and a member whose agent is silent is
// never taken for the primary even while its PostgreSQL still runs as one.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/thread_annotations.h"
#include "support/etcd_server.h"
#include "support/load_loop.h"
#include "support/patroni_cluster.h"
#include "support/ports.h"
#include "support/test_env.h"
#include "support/test_pki.h"

namespace ballast::test {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string endpoint(uint16_t port) {
  return "host=127.0.0.1 port=" + std::to_string(port) +
         " user=postgres dbname=postgres connect_timeout=30";
}

struct Answer {
  bool ok = false;
  std::string value;  // the first column of the first row
  std::string error;
};

// One statement on a connection of its own, as a short-lived client does.
Answer query_once(const std::string& conninfo, const std::string& sql) {
  Answer a;
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    a.error = PQerrorMessage(c);
    PQfinish(c);
    return a;
  }
  PGresult* r = PQexec(c, sql.c_str());
  ExecStatusType s = PQresultStatus(r);
  a.ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
  if (!a.ok) a.error = PQresultErrorMessage(r);
  if (s == PGRES_TUPLES_OK && PQntuples(r) > 0) a.value = PQgetvalue(r, 0, 0);
  PQclear(r);
  PQfinish(c);
  return a;
}

// Inserts a sequence number every few milliseconds through the writer endpoint, on one
// connection, reconnecting after any error, and keeps every number whose commit was
// acknowledged and the longest time between two acknowledged commits.
class WriterLoop {
 public:
  explicit WriterLoop(std::string conninfo) : conninfo_(std::move(conninfo)) {
    thread_ = std::thread([this] { run(); });
  }
  ~WriterLoop() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  size_t acknowledged_count() {
    core::MutexLock lock(mu_);
    return acknowledged_.size();
  }
  std::vector<int64_t> acknowledged() {
    core::MutexLock lock(mu_);
    return acknowledged_;
  }
  int64_t longest_gap_ms() const { return longest_gap_ms_; }
  int errors() const { return errors_; }

 private:
  void run() {
    PGconn* c = nullptr;
    int64_t seq = 0;
    auto last_ok = Clock::now();
    auto started = Clock::now();
    while (!stop_ && ms_since(started) < 120000) {
      if (c == nullptr) {
        c = PQconnectdb(conninfo_.c_str());
        if (PQstatus(c) != CONNECTION_OK) {
          ++errors_;
          PQfinish(c);
          c = nullptr;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          continue;
        }
      }
      ++seq;
      std::string sql = "INSERT INTO acked(seq) VALUES (" + std::to_string(seq) + ")";
      PGresult* r = PQexec(c, sql.c_str());
      if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        core::MutexLock lock(mu_);
        acknowledged_.push_back(seq);
        longest_gap_ms_ = std::max<int64_t>(longest_gap_ms_, ms_since(last_ok));
        last_ok = Clock::now();
      } else {
        ++errors_;
        PQfinish(c);
        c = nullptr;
      }
      PQclear(r);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (c != nullptr) PQfinish(c);
  }

  std::string conninfo_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  core::Mutex mu_;
  std::vector<int64_t> acknowledged_ GUARDED_BY(mu_);
  std::atomic<int64_t> longest_gap_ms_{0};
  std::atomic<int> errors_{0};
};

// The first of the errors that client threads report.
class FirstError {
 public:
  void keep(const std::string& error) {
    core::MutexLock lock(mu_);
    if (text_.empty()) text_ = error;
  }
  std::string text() {
    core::MutexLock lock(mu_);
    return text_;
  }

 private:
  core::Mutex mu_;
  std::string text_ GUARDED_BY(mu_);
};

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!EtcdCluster::installed()) GTEST_SKIP() << "etcd is not installed";
    if (!PatroniCluster::usable(&why)) GTEST_SKIP() << why;
    etcd_ = std::make_unique<EtcdCluster>(1);
    ASSERT_TRUE(etcd_->healthy());
    patroni_ = std::make_unique<PatroniCluster>(3, *etcd_, "main", tags());
    ASSERT_TRUE(patroni_->ready(90)) << patroni_->log(0) << patroni_->log(1);
    reader_port_ = free_port();
    ballast_ = std::make_unique<Ballast>(config_text("    check_interval: 200ms\n"));
    ASSERT_TRUE(ballast_->ready()) << ballast_log();
    ASSERT_TRUE(within(10, [&] { return api().value("primary", "") != ""; })) << api().dump(2);
  }

  // Patroni tags of some members, by position.
  virtual std::map<int, std::string> tags() const { return {}; }
  // The database's relay line ("": the default, the kernel relay).
  virtual std::string relay_yaml() const { return ""; }
  // The database's patroni and members lines: the members listed.
  virtual std::string patroni_yaml() const {
    return "    patroni: { scope: main }\n    members:\n" + patroni_->members_yaml();
  }

  // "lag above 200 KB for 3 of 5 seconds", one alarm per member.
  std::string lag_alarms() const {
    std::string out = "alarms:\n";
    for (int i = 0; i < patroni_->size(); ++i) {
      out +=
          "  - { name: behind-" + patroni_->name(i) +
          ", metric: ReplicaLagBytes, dimensions: { database: main, member: " + patroni_->name(i) +
          " }, statistic: Maximum, period: 1s, evaluation_periods: 5, "
          "datapoints_to_alarm: 3, comparison: GreaterThanThreshold, threshold: 200000, "
          "treat_missing_data: not_breaching }\n";
    }
    return out;
  }
  std::string alarm_state(const std::string& name) const {
    json j = json::parse(admin_call(ballast_->admin_port(), "GET", "/api/v1/alarms/" + name).body,
                         nullptr, false);
    return j.is_object() ? j.value("state", "?") : "?";
  }

  // Only PostgreSQL clients reach the members: ballast never health-checks them as a target
  // group would (an HTTP probe shows in PostgreSQL's log as a bad startup packet).
  void TearDown() override {
    if (!patroni_) return;
    for (int i = 0; i < patroni_->size(); ++i) {
      EXPECT_EQ(patroni_->log(i).find("invalid length of startup packet"), std::string::npos)
          << patroni_->name(i);
    }
  }

  json api() const {
    AdminAnswer a = admin_call(ballast_->admin_port(), "GET", "/api/v1/databases/main");
    json j = json::parse(a.body, nullptr, false);
    return j.is_object() ? j : json::object();
  }
  json member(const std::string& name) const {
    json d = api();
    for (const auto& m : d.value("members", json::array())) {
      if (m.value("name", "") == name) return m;
    }
    return json::object();
  }
  std::string writer() const { return endpoint(ballast_->port()); }
  std::string reader() const { return endpoint(reader_port_); }

  // Every acknowledged insert is in the table, read through the writer endpoint.
  void expect_none_lost(const std::vector<int64_t>& acknowledged) {
    std::set<int64_t> stored;
    PGconn* c = PQconnectdb(writer().c_str());
    ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
    PGresult* r = PQexec(c, "SELECT seq FROM acked");
    ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQresultErrorMessage(r);
    for (int i = 0; i < PQntuples(r); ++i) stored.insert(std::stoll(PQgetvalue(r, i, 0)));
    PQclear(r);
    PQfinish(c);
    size_t missing = 0;
    for (int64_t seq : acknowledged) missing += stored.count(seq) == 0;
    EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged inserts";
  }

  // Runs the writer loop across `drill`, until `after` more inserts are acknowledged.
  void writes_across(const std::function<void()>& drill, const std::string& what) {
    Answer created = query_once(writer(), "CREATE TABLE acked(seq bigint PRIMARY KEY)");
    ASSERT_TRUE(created.ok) << created.error;
    WriterLoop loop(writer());
    ASSERT_TRUE(within(10, [&] { return loop.acknowledged_count() >= 50; }));
    size_t before = loop.acknowledged_count();
    auto t0 = Clock::now();
    drill();
    ASSERT_TRUE(within(90, [&] { return loop.acknowledged_count() >= before + 100; }))
        << "writes did not resume; " << api().dump(2) << ballast_log();
    loop.stop();
    printf(
        "[ %s ] longest time without an acknowledged write: %lld ms (%d failed statements; "
        "writes resumed %lld ms after the drill began)\n",
        what.c_str(), static_cast<long long>(loop.longest_gap_ms()), loop.errors(),
        static_cast<long long>(ms_since(t0)));
    expect_none_lost(loop.acknowledged());
  }
  std::string ballast_log() const { return read_file(ballast_->log_path()); }
  // The configuration of SetUp with other `extra` lines for the database.
  std::string config_text(const std::string& extra) const {
    return "workers: 2\n"
           "databases:\n"
           "  - name: main\n" +
           patroni_yaml() + relay_yaml() + extra +
           "    writer: { bind: 127.0.0.1:${PORT}, hold: 30s }\n" +
           "    reader: { bind: 127.0.0.1:" + std::to_string(reader_port_) +
           ", max_lag: 256KB }\n" + lag_alarms();
  }
  // kill -9 of the primary's Patroni and PostgreSQL under the writer loop; the old primary's
  // name ("" when there was none).
  std::string crash_primary_node(const std::string& what) {
    int p = patroni_->primary();
    EXPECT_GE(p, 0);
    if (p < 0) return "";
    writes_across(
        [&] {
          patroni_->kill_patroni(p);
          patroni_->kill_postgres(p);
        },
        what);
    return patroni_->name(p);
  }

  // A planned switchover under a new connection every 10 ms: none fails.
  void switchover_fails_no_connection_attempt() {
    int p = patroni_->primary();
    std::string old_primary = patroni_->name(p);
    std::atomic<int> failures{0};
    std::atomic<int> attempts{0};
    FirstError first_error;
    std::vector<std::thread> clients;
    std::atomic<bool> stop{false};
    // A new connection every 10 ms, each running one statement, for the whole drill.
    std::thread launcher([&] {
      auto started = Clock::now();
      while (!stop && ms_since(started) < 30000) {
        clients.emplace_back([&] {
          ++attempts;
          Answer a = query_once(writer(), "SELECT 1");
          if (!a.ok) {
            ++failures;
            first_error.keep(a.error);
          }
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    std::string out_path = make_temp_dir() + "/ctl.log";
    int status = run_shell(std::string(BALLAST_BINARY) + " ctl --admin 127.0.0.1:" +
                               std::to_string(ballast_->admin_port()) + " db switchover main",
                           out_path);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    stop = true;
    launcher.join();
    for (auto& t : clients) t.join();
    EXPECT_EQ(status, 0) << read_file(out_path);
    EXPECT_EQ(failures.load(), 0) << "of " << attempts.load()
                                  << " attempts; first: " << first_error.text() << ballast_log();
    json d = api();
    EXPECT_NE(d.value("primary", ""), old_primary);
    EXPECT_EQ(d["switchover"].value("phase", ""), "done") << d.dump(2);
    printf("[ switchover ] %d connection attempts, %d failed; %s\n", attempts.load(),
           failures.load(), read_file(out_path).c_str());
  }

  // The primary's Patroni frozen: its PostgreSQL runs on as a primary, yet once another
  // member is confirmed the writer reaches only that one, and the session opened to the old
  // one before is closed.
  void silent_agent_is_never_the_primary() {
    int p = patroni_->primary();
    std::string old_primary = patroni_->name(p);
    // First a reload (another check interval): the monitor and an open session stay.
    PGconn* session = PQconnectdb(writer().c_str());
    ASSERT_EQ(PQstatus(session), CONNECTION_OK) << PQerrorMessage(session);
    ballast_->rewrite_config(config_text("    check_interval: 300ms\n"));
    ballast_->process().signal(SIGHUP);
    ASSERT_TRUE(within(10, [&] {
      return ballast_log().find("configuration 2 applied") != std::string::npos;
    })) << ballast_log();
    EXPECT_EQ(query_once(writer(), "SELECT inet_server_port()").value,
              std::to_string(patroni_->pg_port(p)));
    PGresult* r = PQexec(session, "SELECT 1");
    EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(session);
    PQclear(r);

    patroni_->pause_patroni(p);  // its REST API stops answering; its PostgreSQL runs on
    ASSERT_TRUE(within(60, [&] {
      std::string now = api().value("primary", "");
      return !now.empty() && now != old_primary;
    })) << api().dump(2);
    // Its PostgreSQL still runs as a primary (Patroni, stopped, cannot demote it) ...
    EXPECT_EQ(query_once(patroni_->conninfo(p), "SELECT pg_is_in_recovery()").value, "f");
    // ... yet the writer endpoint reaches only the new primary, and fences the old one.
    int now_primary = patroni_->primary();
    ASSERT_GE(now_primary, 0);
    ASSERT_NE(now_primary, p);
    for (int i = 0; i < 5; ++i) {
      Answer a = query_once(writer(), "SELECT inet_server_port()");
      EXPECT_EQ(a.value, std::to_string(patroni_->pg_port(now_primary)))
          << a.error << api().dump(2) << ballast_log();
      if (!a.ok) break;
    }
    // The session opened to it before is closed by ballast, though its PostgreSQL still runs:
    // no write reaches a primary Patroni has replaced.
    r = PQexec(session, "SELECT inet_server_port()");
    EXPECT_NE(PQresultStatus(r), PGRES_TUPLES_OK) << "the session to the old primary still works";
    PQclear(r);
    PQfinish(session);
    json m = member(old_primary);
    EXPECT_EQ(m.value("role", ""), "unknown") << m.dump(2);
    EXPECT_EQ(m["writer"].value("state", ""), "fenced") << m.dump(2);
    EXPECT_EQ(m["writer"].value("reason", ""), "no status") << m.dump(2);
    patroni_->resume_patroni(p);
  }

  std::unique_ptr<EtcdCluster> etcd_;
  std::unique_ptr<PatroniCluster> patroni_;
  std::unique_ptr<Ballast> ballast_;
  uint16_t reader_port_ = 0;
};

TEST_F(DatabaseTest, ThePrimarysPostgresCrashLosesNoAcknowledgedWrite) {
  int p = patroni_->primary();
  ASSERT_GE(p, 0);
  writes_across([&] { patroni_->kill_postgres(p); }, "kill -9 the primary's PostgreSQL");
  // Whether Patroni restarted it or failed over, the writer lost its primary and found one.
  json d = api();
  bool lost = false;
  for (const auto& a : d["activities"]) lost |= a.value("cause", "") == "lost";
  EXPECT_TRUE(lost) << d.dump(2);
  EXPECT_NE(d.value("primary", ""), "");
}

TEST_F(DatabaseTest, AFailoverIsFollowedWithNoAcknowledgedWriteLost) {
  std::string old_primary = crash_primary_node("kill -9 the primary's Patroni and PostgreSQL");
  ASSERT_FALSE(old_primary.empty());
  json d = api();
  EXPECT_NE(d.value("primary", ""), old_primary);
  EXPECT_EQ(member(old_primary)["writer"].value("state", ""), "fenced") << d.dump(2);
  bool failover = false;
  for (const auto& a : d["activities"]) failover |= a.value("cause", "") == "failover";
  EXPECT_TRUE(failover) << d.dump(2);
  // The writer endpoint reaches the new primary.
  int now_primary = patroni_->primary();
  ASSERT_GE(now_primary, 0);
  EXPECT_EQ(query_once(writer(), "SELECT inet_server_port()").value,
            std::to_string(patroni_->pg_port(now_primary)));
}

TEST_F(DatabaseTest, ALaggingReplicaStopsGettingReadsAndGetsThemBack) {
  int p = patroni_->primary();
  int lagging = (p + 1) % patroni_->size();
  int fresh = (p + 2) % patroni_->size();
  std::string name = patroni_->name(lagging);
  // In maintenance mode, or Patroni would resume the replay within its next loop.
  ASSERT_TRUE(patroni_->set_maintenance(true));
  Answer paused = query_once(patroni_->conninfo(lagging), "SELECT pg_wal_replay_pause()");
  ASSERT_TRUE(paused.ok) << paused.error;
  // About 3 MB of WAL, far past max_lag (256KB).
  Answer bulk = query_once(writer(),
                           "CREATE TABLE bulk AS SELECT g, repeat('x', 500) AS pad "
                           "FROM generate_series(1, 5000) g");
  ASSERT_TRUE(bulk.ok) << bulk.error;
  ASSERT_TRUE(within(10, [&] { return member(name)["reader"].value("reason", "") == "lagging"; }))
      << member(name).dump(2);
  EXPECT_GT(member(name).value("lag_bytes", 0), 256 * 1024);
  // The lag is in the time-series store: its alarm fires (3 of 5 seconds above 200 KB).
  EXPECT_TRUE(within(15, [&] { return alarm_state("behind-" + name) == "ALARM"; }))
      << alarm_state("behind-" + name);

  // Connections held open together: least_connections would spread them over both replicas.
  auto ports_of_reads = [&] {
    std::vector<PGconn*> held;
    std::multiset<std::string> ports;
    for (int i = 0; i < 8; ++i) {
      PGconn* c = PQconnectdb(reader().c_str());
      if (PQstatus(c) == CONNECTION_OK) {
        PGresult* r = PQexec(c, "SELECT inet_server_port()");
        if (PQresultStatus(r) == PGRES_TUPLES_OK) ports.insert(PQgetvalue(r, 0, 0));
        PQclear(r);
      }
      held.push_back(c);
    }
    for (PGconn* c : held) PQfinish(c);
    return ports;
  };
  std::string lagging_port = std::to_string(patroni_->pg_port(lagging));
  std::string fresh_port = std::to_string(patroni_->pg_port(fresh));
  auto ports = ports_of_reads();
  EXPECT_EQ(ports.size(), 8u);
  EXPECT_EQ(ports.count(lagging_port), 0u);
  EXPECT_EQ(ports.count(fresh_port), 8u);

  Answer resumed = query_once(patroni_->conninfo(lagging), "SELECT pg_wal_replay_resume()");
  ASSERT_TRUE(resumed.ok) << resumed.error;
  ASSERT_TRUE(patroni_->set_maintenance(false));
  ASSERT_TRUE(within(10, [&] { return member(name)["reader"].value("state", "") == "healthy"; }))
      << member(name).dump(2);
  ports = ports_of_reads();
  EXPECT_TRUE(within(15, [&] { return alarm_state("behind-" + name) == "OK"; }));
  EXPECT_GT(ports.count(lagging_port), 0u);
  EXPECT_GT(ports.count(fresh_port), 0u);
}

TEST_F(DatabaseTest, APlannedSwitchoverFailsNoConnectionAttempt) {
  switchover_fails_no_connection_attempt();
}

TEST_F(DatabaseTest, AMemberWhoseAgentIsSilentIsNeverThePrimary) {
  silent_agent_is_never_the_primary();
}

// Without Patroni: ballast asks each PostgreSQL pg_is_in_recovery() itself.
class PostgresRolesTest : public DatabaseTest {
 protected:
  std::string patroni_yaml() const override {
    std::string out = "    postgres: { user: postgres }\n    members:\n";
    for (int i = 0; i < patroni_->size(); ++i) {
      out += "      - { name: " + patroni_->name(i) +
             ", address: 127.0.0.1:" + std::to_string(patroni_->pg_port(i)) + " }\n";
    }
    return out;
  }
};

TEST_F(PostgresRolesTest, EachPostgresSaysWhatItIsAndTheWriterFollowsAPromotion) {
  int p = patroni_->primary();
  ASSERT_GE(p, 0);
  EXPECT_EQ(api().value("primary", ""), patroni_->name(p)) << api().dump(2);
  EXPECT_EQ(query_once(writer(), "SELECT inet_server_port()").value,
            std::to_string(patroni_->pg_port(p)));
  Answer read = query_once(reader(), "SELECT pg_is_in_recovery()");
  EXPECT_EQ(read.value, "t") << read.error;
  for (int i = 0; i < patroni_->size(); ++i) {
    if (i == p) continue;
    EXPECT_EQ(member(patroni_->name(i)).value("role", ""), "replica");
  }
  // Whoever promotes a replica (Patroni here, an operator elsewhere), the writer follows
  // what PostgreSQL says, and the old primary, gone, is fenced.
  std::string old_primary =
      crash_primary_node("roles from PostgreSQL: kill -9 the primary's Patroni and PostgreSQL");
  ASSERT_EQ(old_primary, patroni_->name(p));
  json d = api();
  EXPECT_NE(d.value("primary", ""), old_primary) << d.dump(2);
  EXPECT_EQ(member(old_primary)["writer"].value("state", ""), "fenced") << d.dump(2);
}

// The members found in Patroni's keys in etcd, and its leader key watched.
class DiscoveredDatabaseTest : public DatabaseTest {
 protected:
  // pg3 takes no reads.
  std::map<int, std::string> tags() const override { return {{2, "{noloadbalance: true}"}}; }
  std::string patroni_yaml() const override {
    return "    patroni: { scope: main, etcd: { endpoints: " + etcd_->endpoints_yaml() + " } }\n";
  }
};

TEST_F(DiscoveredDatabaseTest, MembersComeFromPatronisKeysAndAFailoverIsFollowed) {
  ASSERT_TRUE(within(10, [&] { return api()["members"].size() == 3; })) << api().dump(2);
  for (int i = 0; i < patroni_->size(); ++i) {
    json m = member(patroni_->name(i));
    EXPECT_EQ(m.value("address", ""), "127.0.0.1:" + std::to_string(patroni_->pg_port(i)));
  }
  // pg3, tagged noloadbalance, is no reader (while a replica); reads go to the other.
  if (patroni_->primary() != 2) {
    json pg3 = member("pg3");
    EXPECT_EQ(pg3["reader"].value("reason", ""), "excluded") << pg3.dump(2);
    EXPECT_TRUE(pg3["tags"].value("noloadbalance", false)) << pg3.dump(2);
    for (int i = 0; i < 4; ++i) {
      EXPECT_NE(query_once(reader(), "SELECT inet_server_port()").value,
                std::to_string(patroni_->pg_port(2)));
    }
  }
  // The endpoints' groups hold the members found.
  json group = json::parse(
      admin_call(ballast_->admin_port(), "GET", "/api/v1/target-groups/main-writer").body, nullptr,
      false);
  EXPECT_EQ(group["targets"].size(), 3u) << group.dump(2);
  std::string old_primary = crash_primary_node(
      "members from Patroni's keys: kill -9 the primary's Patroni and PostgreSQL");
  ASSERT_FALSE(old_primary.empty());
  json d = api();
  EXPECT_NE(d.value("primary", ""), old_primary);
  // Patroni's member key of the dead node expires with its session: it leaves the endpoints.
  EXPECT_TRUE(within(30, [&] { return api()["members"].size() == 2; })) << api().dump(2);
}

// relay: nat: the writer's new connections go to the primary by the kernel's NAT; held ones
// (a switchover, no primary) through ballast's listener on the same address.
class NatWriterTest : public DatabaseTest {
 protected:
  std::string relay_yaml() const override { return "    relay: nat\n"; }
  json nat() const { return api()["writer"].value("nat", json::object()); }
};

TEST_F(NatWriterTest, ASwitchoverFailsNoConnectionAttemptAndNatFollowsTheNewPrimary) {
  if (!nat().value("steering", false)) GTEST_SKIP() << "no NAT here: " << nat().dump();
  int p = patroni_->primary();
  ASSERT_GE(p, 0);
  EXPECT_EQ(nat().value("primary", ""), patroni_->name(p)) << nat().dump(2);
  // A connection reaches the primary without passing through ballast's listener.
  uint64_t before = nat().value("connections", uint64_t{0});
  int64_t relayed = api()["writer"].value("connections", int64_t{0});
  EXPECT_EQ(query_once(writer(), "SELECT inet_server_port()").value,
            std::to_string(patroni_->pg_port(p)));
  EXPECT_GT(nat().value("connections", uint64_t{0}), before) << nat().dump(2);
  EXPECT_EQ(api()["writer"].value("connections", int64_t{0}), relayed) << api()["writer"].dump(2);
  switchover_fails_no_connection_attempt();
  int now_primary = patroni_->primary();
  ASSERT_GE(now_primary, 0);
  ASSERT_TRUE(within(5, [&] { return nat().value("primary", "") == patroni_->name(now_primary); }))
      << nat().dump(2);
  EXPECT_EQ(query_once(writer(), "SELECT inet_server_port()").value,
            std::to_string(patroni_->pg_port(now_primary)));
  // The connections held during the switchover went through ballast's listener, the rest
  // by NAT.
  EXPECT_TRUE(within(5, [&] { return api()["writer"].value("connections", 0) > 0; }))
      << api()["writer"].dump(2);
  printf("[ nat switchover ] %llu connections without ballast (%s), %lld through its listener\n",
         static_cast<unsigned long long>(nat().value("connections", uint64_t{0})),
         nat().value("local_redirect", false) ? "redirected at connect" : "by the NAT rule",
         static_cast<long long>(api()["writer"].value("connections", int64_t{0})));
}

TEST_F(NatWriterTest, AFailoverLosesNoAcknowledgedWrite) {
  if (!nat().value("steering", false)) GTEST_SKIP() << "no NAT here: " << nat().dump();
  std::string old_primary =
      crash_primary_node("relay: nat: kill -9 the primary's Patroni and PostgreSQL");
  ASSERT_FALSE(old_primary.empty());
  int now_primary = patroni_->primary();
  ASSERT_GE(now_primary, 0);
  EXPECT_NE(patroni_->name(now_primary), old_primary);
  ASSERT_TRUE(within(5, [&] { return nat().value("primary", "") == patroni_->name(now_primary); }))
      << nat().dump(2);
  EXPECT_EQ(query_once(writer(), "SELECT inet_server_port()").value,
            std::to_string(patroni_->pg_port(now_primary)));
}

TEST_F(NatWriterTest, AFrozenPrimarysSessionIsClosed) {
  if (!nat().value("steering", false)) GTEST_SKIP() << "no NAT here: " << nat().dump();
  silent_agent_is_never_the_primary();
  EXPECT_GE(nat().value("cut_flows", uint64_t{0}), 1u) << nat().dump(2) << ballast_log();
}

}  // namespace
}  // namespace ballast::test
