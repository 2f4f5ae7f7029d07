#include "config/database_reader.h"

#include <unistd.h>

#include <set>

#include "config/cluster_reader.h"
#include "config/relay_reader.h"
#include "config/yaml_reader.h"
#include "http/url.h"

namespace ballast::config {

namespace {

// Safe in a listener's and a group's name, a metric label and an API path.
bool valid_database_name(const std::string& name) {
  if (name.empty() || name.size() > 50) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

DatabaseConfig::Member read_member(const YAML::Node& node, const std::string& path,
                                   DatabaseConfig::RoleSource source, ErrorList& errors) {
  DatabaseConfig::Member m;
  MapReader r(node, path, errors);
  m.location = r.location();
  Location at;  // the member's own position stays its mapping's
  if (auto a = read_address(r, "address", true, &m.address_text, &at, errors)) {
    m.address = *a;
  }
  bool patroni = source == DatabaseConfig::RoleSource::kPatroni;
  if (!patroni && r.has("rest")) {
    errors.add(r.key_location("rest"), r.child_path("rest"),
               "rest is Patroni's REST API, and this database has no patroni section");
  }
  if (auto v = r.string("rest", patroni)) {
    http::HttpUrl url;
    std::string error;
    if (!http::parse_http_url(*v, &url, &error)) {
      errors.add(location_of(r.node("rest")), r.child_path("rest"),
                 "Patroni's REST API URL: " + error);
    } else if (url.path != "/") {
      errors.add(location_of(r.node("rest")), r.child_path("rest"),
                 "Patroni's REST API is http://HOST:PORT, without a path (ballast asks its "
                 "/primary)");
    } else {
      m.rest_url = *v;
    }
  }
  m.name = m.address_text;
  if (auto v = r.string("name")) m.name = *v;
  r.finish();
  return m;
}

void read_patroni(MapReader& r, DatabaseConfig& d, ErrorList& errors) {
  MapReader p(r.node("patroni"), r.child_path("patroni"), errors);
  if (auto v = p.string("scope", true)) d.scope = *v;
  if (p.has("etcd")) {
    MapReader e(p.node("etcd"), p.child_path("etcd"), errors);
    d.etcd = read_etcd_access(e, errors);
    if (auto v = e.string("namespace")) {
      if (v->empty() || (*v)[0] != '/') {
        errors.add(location_of(e.node("namespace")), e.child_path("namespace"),
                   "Patroni's namespace starts with / (its default is /service)");
      }
      d.patroni_namespace = *v;
    }
    e.finish();
  } else {
    p.node("etcd");
  }
  p.finish();
}

void read_postgres_login(MapReader& r, DatabaseConfig& d, ErrorList& errors) {
  d.role_source = DatabaseConfig::RoleSource::kPostgres;
  MapReader p(r.node("postgres"), r.child_path("postgres"), errors);
  if (auto v = p.string("user")) d.postgres.user = *v;
  if (auto v = p.string("dbname")) d.postgres.dbname = *v;
  if (auto v = p.string("password_file")) {
    if (::access(v->c_str(), R_OK) != 0) {
      errors.add(location_of(p.node("password_file")), p.child_path("password_file"),
                 "cannot read \"" + *v + "\" (a libpq passfile: host:port:db:user:password)");
    }
    d.postgres.password_file = *v;
  }
  p.finish();
}

void read_writer(MapReader& r, DatabaseConfig& d, ErrorList& errors) {
  MapReader w(r.node("writer"), r.child_path("writer"), errors);
  d.writer.location = w.location();
  Location at;
  if (auto a = read_address(w, "bind", true, &d.writer.bind_text, &at, errors)) {
    d.writer.bind = *a;
  }
  d.writer.enabled = true;
  if (auto v = w.duration_ms("hold", 0, 600 * 1000)) d.hold_ms = *v;
  w.finish();
}

void read_fallback(MapReader& rd, DatabaseConfig& d, ErrorList& errors) {
  auto v = rd.string("fallback");
  if (!v) return;
  if (*v == "writer") {
    d.fallback = ReaderFallback::kWriter;
  } else if (*v == "refuse") {
    d.fallback = ReaderFallback::kRefuse;
  } else {
    errors.add(location_of(rd.node("fallback")), rd.child_path("fallback"),
               "unknown fallback \"" + *v + "\"; expected writer or refuse");
  }
}

void read_reader(MapReader& r, DatabaseConfig& d, ErrorList& errors) {
  MapReader rd(r.node("reader"), r.child_path("reader"), errors);
  d.reader.location = rd.location();
  Location at;
  if (auto a = read_address(rd, "bind", true, &d.reader.bind_text, &at, errors)) {
    d.reader.bind = *a;
  }
  d.reader.enabled = true;
  if (auto v = rd.size("max_lag", 1, uint64_t{1} << 50)) d.max_lag_bytes = *v;
  if (auto v = rd.duration_ms("max_lag_time", 1, 3600 * 1000)) d.max_lag_ms = *v;
  read_fallback(rd, d, errors);
  if (auto v = rd.string("algorithm")) {
    if (!lb::parse_algorithm(*v, &d.reader_algorithm)) {
      errors.add(location_of(rd.node("algorithm")), rd.child_path("algorithm"),
                 "unknown algorithm \"" + *v + "\" (the target groups' names apply)");
    }
  }
  rd.finish();
}

void check_members(const DatabaseConfig& d, MapReader& r, ErrorList& errors) {
  if (r.is_map() && d.members.empty() && d.etcd.endpoints.empty() &&
      (r.has("patroni") || r.has("postgres"))) {
    errors.add(r.location(), r.child_path("members"),
               "no members: list each member's address (PostgreSQL) and rest (Patroni's API), "
               "or give patroni.etcd to find them in Patroni's keys");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < d.members.size(); ++i) {
    const auto& m = d.members[i];
    bool twice = false;
    for (size_t j = 0; j < i && !twice; ++j) {
      if (m.address.length() != 0 && m.address == d.members[j].address) {
        errors.add(m.location, indexed(r.child_path("members"), i) + ".address",
                   "member " + m.address_text + " is listed twice (also members[" +
                       std::to_string(j) + "])");
        twice = true;
      }
    }
    if (!names.insert(m.name).second && !twice) {
      errors.add(m.location, indexed(r.child_path("members"), i) + ".name",
                 "member name \"" + m.name + "\" is used twice");
    }
  }
}

}  // namespace

DatabaseConfig read_database(const YAML::Node& node, const std::string& path, ErrorList& errors) {
  DatabaseConfig d;
  MapReader r(node, path, errors);
  d.location = r.location();
  if (auto v = r.string("name", true)) {
    d.name = *v;
    if (!valid_database_name(d.name)) {
      errors.add(location_of(r.node("name")), r.child_path("name"),
                 "\"" + d.name + "\": a database's name is 1 to 50 of a-z, 0-9, '-', '_'");
    }
  }
  if (r.has("patroni") && r.has("postgres")) {
    errors.add(r.key_location("postgres"), r.child_path("postgres"),
               "give patroni or postgres, not both: with Patroni its agents say who is primary");
  }
  if (r.has("patroni")) {
    read_patroni(r, d, errors);
    r.node("postgres");
  } else if (r.has("postgres")) {
    read_postgres_login(r, d, errors);
    r.node("patroni");
  } else if (r.is_map()) {
    r.node("patroni");
    r.node("postgres");
    errors.add(r.location(), r.child_path("patroni"),
               "missing patroni: { scope: NAME } (Patroni's agents say who is primary) or "
               "postgres: { user: NAME } (each member's pg_is_in_recovery(), without failover)");
  }
  for_each_item(r, "members", errors, [&](const YAML::Node& item, const std::string& p) {
    d.members.push_back(read_member(item, p, d.role_source, errors));
  });
  check_members(d, r, errors);
  if (auto v = r.duration_ms("check_interval", 50, 60 * 1000)) d.check_interval_ms = *v;
  if (auto v = r.duration_ms("check_timeout", 50, 60 * 1000)) d.check_timeout_ms = *v;
  if (auto v = r.duration_ms("idle_timeout", 1000)) d.idle_timeout_ms = *v;
  read_relay(r, d.relay, errors, &d.writer_path);
  if (r.has("writer")) {
    read_writer(r, d, errors);
  } else if (r.is_map()) {
    r.node("writer");
    errors.add(r.location(), r.child_path("writer"), "missing writer: { bind: HOST:PORT }");
  }
  if (r.has("reader")) {
    read_reader(r, d, errors);
  } else {
    r.node("reader");
  }
  r.finish();
  return d;
}

namespace {

TargetGroupConfig endpoint_group(const DatabaseConfig& d, const std::string& name) {
  TargetGroupConfig g;
  g.name = name;
  g.location = d.location;
  g.health_source = TargetGroupConfig::HealthSource::kDatabaseRole;
  g.fail_open = false;          // never a member whose role is not confirmed
  g.retries = 0;                // the role decides; a refused connect waits for the next
  g.connect_timeout_ms = 2000;  // a member that does not answer is as good as down
  g.deregistration_delay_ms = 0;
  std::set<std::string> seen;  // a member listed twice is reported at the database
  for (const auto& m : d.members) {
    if (!seen.insert(m.address.to_string()).second) continue;
    TargetConfig t;
    t.address_text = m.address_text;
    t.address = m.address;
    t.location = m.location;
    g.targets.push_back(t);
  }
  return g;
}

ListenerConfig endpoint_listener(const DatabaseConfig& d, const DatabaseConfig::Endpoint& e,
                                 const std::string& name) {
  ListenerConfig l;
  l.name = name;
  l.protocol = ListenerConfig::Protocol::kTcp;
  l.bind_text = e.bind_text;
  l.bind = e.bind;
  l.bind_location = e.location;
  l.location = e.location;
  l.idle_timeout_ms = d.idle_timeout_ms;
  l.relay = d.relay;
  l.http2.enabled = false;
  RuleConfig rule;
  rule.location = e.location;
  RuleConfig::ForwardTo to;
  to.target_group = name;
  to.path = "databases." + d.name;
  to.location = e.location;
  rule.forward.push_back(to);
  l.rules.push_back(std::move(rule));
  return l;
}

}  // namespace

void add_database_endpoints(Config& config, ErrorList& errors) {
  std::set<std::string> listeners, groups;
  for (const auto& l : config.listeners) listeners.insert(l.name);
  for (const auto& g : config.target_groups) groups.insert(g.name);
  for (size_t i = 0; i < config.databases.size(); ++i) {
    const DatabaseConfig& d = config.databases[i];
    if (d.name.empty() || !d.writer.enabled) continue;  // already reported
    std::string path = indexed("databases", i);
    for (const std::string& name : {d.writer_name(), d.reader_name()}) {
      if (listeners.count(name) != 0 || groups.count(name) != 0) {
        errors.add(d.location, path + ".name",
                   "database \"" + d.name + "\" names its endpoints \"" + name +
                       "\", which a listener or target group already uses");
      }
    }
    TargetGroupConfig writer = endpoint_group(d, d.writer_name());
    writer.hold_ms = d.hold_ms;
    config.target_groups.push_back(std::move(writer));
    config.listeners.push_back(endpoint_listener(d, d.writer, d.writer_name()));
    if (d.reader.enabled) {
      TargetGroupConfig reader = endpoint_group(d, d.reader_name());
      reader.algorithm = d.reader_algorithm;
      // Reads wait as writes do: a replica may be catching up, a fallback arriving.
      reader.hold_ms = d.fallback == ReaderFallback::kRefuse ? 0 : d.hold_ms;
      config.target_groups.push_back(std::move(reader));
      config.listeners.push_back(endpoint_listener(d, d.reader, d.reader_name()));
    }
  }
}

}  // namespace ballast::config
