#include <gtest/gtest.h>

#include <string>

#include "config/config_loader.h"
#include "errors_text.h"

namespace ballast::config {
namespace {

const char* kDatabase = R"(databases:
  - name: main
    patroni: { scope: main }
    members:
      - { name: pg1, address: 127.0.0.1:5433, rest: http://127.0.0.1:8008 }
      - { name: pg2, address: 127.0.0.1:5434, rest: http://127.0.0.1:8009 }
    check_interval: 200ms
    relay: user
    writer: { bind: 127.0.0.1:6432, hold: 5s }
    reader: { bind: 127.0.0.1:6433, max_lag: 16MB, max_lag_time: 10s, fallback: refuse }
)";

TEST(DatabaseConfigTest, ADatabaseBecomesTwoTcpListenersAndTheirGroups) {
  LoadResult r = load_config_string(kDatabase, "db.yaml");
  ASSERT_TRUE(r.config) << errors_of(r);
  const Config& c = *r.config;
  ASSERT_EQ(c.databases.size(), 1u);
  const DatabaseConfig& d = c.databases[0];
  EXPECT_EQ(d.scope, "main");
  ASSERT_EQ(d.members.size(), 2u);
  EXPECT_EQ(d.members[1].name, "pg2");
  EXPECT_EQ(d.members[1].rest_url, "http://127.0.0.1:8009");
  EXPECT_EQ(d.check_interval_ms, 200);
  EXPECT_EQ(d.hold_ms, 5000);
  EXPECT_EQ(d.max_lag_bytes, 16000000u);
  EXPECT_EQ(d.max_lag_ms, 10000);
  EXPECT_EQ(d.fallback, ReaderFallback::kRefuse);
  EXPECT_EQ(d.relay, ListenerConfig::Relay::kUserSpace);

  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[0].name, "main-writer");
  EXPECT_EQ(c.listeners[0].protocol, ListenerConfig::Protocol::kTcp);
  EXPECT_EQ(c.listeners[0].bind.to_string(), "127.0.0.1:6432");
  EXPECT_EQ(c.listeners[1].name, "main-reader");
  EXPECT_EQ(c.listeners[1].relay, ListenerConfig::Relay::kUserSpace);  // both endpoints
  ASSERT_EQ(c.target_groups.size(), 2u);
  const TargetGroupConfig& writer = c.target_groups[0];
  EXPECT_EQ(writer.name, "main-writer");
  EXPECT_EQ(writer.health_source, TargetGroupConfig::HealthSource::kDatabaseRole);
  EXPECT_FALSE(writer.fail_open);
  EXPECT_EQ(writer.hold_ms, 5000);
  EXPECT_EQ(writer.targets.size(), 2u);
  const TargetGroupConfig& reader = c.target_groups[1];
  EXPECT_EQ(reader.algorithm, lb::Algorithm::kLeastConnections);
  EXPECT_EQ(reader.hold_ms, 0);  // fallback: refuse does not wait either
  EXPECT_EQ(c.listeners[1].rules[0].forward[0].target_group_index, 1u);
}

TEST(DatabaseConfigTest, RelayNatSendsTheWriterByNatAndRelaysTheRestInTheKernel) {
  std::string text = kDatabase;
  text.replace(text.find("relay: user"), 11, "relay: nat");
  LoadResult r = load_config_string(text, "db.yaml");
  ASSERT_TRUE(r.config) << errors_of(r);
  const DatabaseConfig& d = r.config->databases[0];
  EXPECT_EQ(d.writer_path, DatabaseConfig::WriterPath::kNat);
  EXPECT_EQ(d.relay, ListenerConfig::Relay::kKernel);
  EXPECT_EQ(r.config->listeners[0].relay, ListenerConfig::Relay::kKernel);
  EXPECT_EQ(r.config->listeners[1].relay, ListenerConfig::Relay::kKernel);

  text.replace(text.find("relay: nat"), 10, "relay: dnat");
  std::string e = errors_of(load_config_string(text, "db.yaml"));
  EXPECT_NE(e.find("db.yaml:8:12: databases[0].relay: unknown relay \"dnat\"; expected kernel, "
                   "user or nat"),
            std::string::npos)
      << e;
  EXPECT_EQ(load_config_string(kDatabase, "db.yaml").config->databases[0].writer_path,
            DatabaseConfig::WriterPath::kRelay);
}

TEST(DatabaseConfigTest, MistakesPointAtTheirLine) {
  LoadResult r = load_config_string(R"(databases:
  - name: Main
    patroni: { scope: main, etcd: { endpoints: [http://127.0.0.1:2379], namespace: service } }
    members:
      - { address: 127.0.0.1:5433, rest: http://127.0.0.1:8008/patroni }
      - { address: 127.0.0.1:5433, rest: https://127.0.0.1:8009 }
    writer: { bind: 127.0.0.1:6432, hold: 20m }
    reader: { bind: 127.0.0.1:6433, fallback: primary }
)",
                                    "db.yaml");
  ASSERT_FALSE(r.config);
  std::string e = errors_of(r);
  EXPECT_NE(e.find("db.yaml:2:11: databases[0].name: \"Main\": a database's name"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("databases[0].patroni.etcd.namespace: Patroni's namespace starts with /"),
            std::string::npos)
      << e;
  EXPECT_NE(
      e.find(
          "databases[0].members[0].rest: Patroni's REST API is http://HOST:PORT, without a path"),
      std::string::npos)
      << e;
  EXPECT_NE(e.find("databases[0].members[1].rest"), std::string::npos) << e;
  EXPECT_NE(
      e.find("db.yaml:6:9: databases[0].members[1].address: member 127.0.0.1:5433 is listed twice"),
      std::string::npos)
      << e;
  EXPECT_NE(e.find("databases[0].writer.hold"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown fallback \"primary\"; expected writer or refuse"), std::string::npos)
      << e;
}

TEST(DatabaseConfigTest, MembersMayBeFoundInPatronisEtcd) {
  LoadResult r = load_config_string(R"(databases:
  - name: main
    patroni: { scope: main, etcd: { endpoints: [http://127.0.0.1:2379], namespace: /db } }
    writer: { bind: 127.0.0.1:6432 }
)",
                                    "db.yaml");
  ASSERT_TRUE(r.config) << errors_of(r);
  const DatabaseConfig& d = r.config->databases[0];
  EXPECT_TRUE(d.members.empty());
  EXPECT_EQ(d.etcd.endpoints, std::vector<std::string>{"http://127.0.0.1:2379"});
  EXPECT_EQ(d.patroni_namespace, "/db");
  EXPECT_TRUE(r.config->target_groups[0].targets.empty());  // filled as they are found

  r = load_config_string(R"(databases:
  - name: main
    patroni: { scope: main }
    writer: { bind: 127.0.0.1:6432 }
)",
                         "db.yaml");
  ASSERT_FALSE(r.config);
  EXPECT_NE(errors_of(r).find("or give patroni.etcd to find them"), std::string::npos)
      << errors_of(r);
}

TEST(DatabaseConfigTest, WithoutPatroniEachPostgresIsAsked) {
  LoadResult r = load_config_string(R"(databases:
  - name: main
    postgres: { user: ballast, dbname: app }
    members: [ { address: 127.0.0.1:5433 }, { address: 127.0.0.1:5434 } ]
    writer: { bind: 127.0.0.1:6432 }
)",
                                    "db.yaml");
  ASSERT_TRUE(r.config) << errors_of(r);
  const DatabaseConfig& d = r.config->databases[0];
  EXPECT_EQ(d.role_source, DatabaseConfig::RoleSource::kPostgres);
  EXPECT_EQ(d.postgres.user, "ballast");
  EXPECT_EQ(d.postgres.dbname, "app");
  EXPECT_EQ(d.members[1].rest_url, "");

  r = load_config_string(R"(databases:
  - name: main
    patroni: { scope: main }
    postgres: { user: ballast, password_file: /nonexistent/pgpass }
    members: [ { address: 127.0.0.1:5433 } ]
    writer: { bind: 127.0.0.1:6432 }
  - name: other
    postgres: {}
    members: [ { address: 127.0.0.1:5533, rest: http://127.0.0.1:8008 } ]
    writer: { bind: 127.0.0.1:6532 }
  - name: third
    members: [ { address: 127.0.0.1:5633 } ]
    writer: { bind: 127.0.0.1:6632 }
)",
                         "db.yaml");
  ASSERT_FALSE(r.config);
  std::string e = errors_of(r);
  EXPECT_NE(e.find("databases[0].postgres: give patroni or postgres, not both"), std::string::npos)
      << e;
  EXPECT_NE(e.find("databases[0].members[0].rest: required key \"rest\" is missing"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("databases[1].members[0].rest: rest is Patroni's REST API, and this database "
                   "has no patroni section"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("databases[2].patroni: missing patroni: { scope: NAME }"), std::string::npos)
      << e;
}

TEST(DatabaseConfigTest, EndpointNamesMayNotClashAndAWriterIsNeeded) {
  LoadResult r = load_config_string(R"(listeners:
  - name: main-writer
    bind: 127.0.0.1:8080
    protocol: tcp
    rules: [ { forward: { target_group: app } } ]
target_groups:
  - name: app
    targets: [ { address: 127.0.0.1:9001 } ]
databases:
  - name: main
    patroni: { scope: main }
    members: [ { address: 127.0.0.1:5433, rest: http://127.0.0.1:8008 } ]
    writer: { bind: 127.0.0.1:6432 }
  - name: other
    patroni: { scope: other }
    members: [ { address: 127.0.0.1:5533, rest: http://127.0.0.1:8108 } ]
)",
                                    "db.yaml");
  ASSERT_FALSE(r.config);
  std::string e = errors_of(r);
  EXPECT_NE(e.find("db.yaml:10:5: databases[0].name: database \"main\" names its endpoints "
                   "\"main-writer\", which a listener or target group already uses"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("databases[1].writer: missing writer"), std::string::npos) << e;
}

}  // namespace
}  // namespace ballast::config
