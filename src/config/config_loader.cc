#include "config/config_loader.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "config/alarm_reader.h"
#include "config/autoscaling_reader.h"
#include "config/cluster_reader.h"
#include "config/database_reader.h"
#include "config/relay_reader.h"
#include "config/rule_reader.h"
#include "config/tls_reader.h"
#include "config/units.h"
#include "config/validate.h"
#include "config/yaml_reader.h"

namespace ballast::config {

unsigned Config::effective_workers() const {
  if (workers != 0) return workers;
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

namespace {

TargetConfig read_target(const YAML::Node& node, const std::string& path, ErrorList& errors) {
  TargetConfig t;
  MapReader r(node, path, errors);
  t.location = r.location();
  if (auto a = read_address(r, "address", true, &t.address_text, &t.location, errors))
    t.address = *a;
  if (auto w = r.integer("weight", 0, 1000000)) t.weight = static_cast<uint32_t>(*w);
  r.finish();
  return t;
}

void read_health_check(MapReader& r, TargetGroupConfig& g, ErrorList& errors) {
  HealthCheckConfig& hc = g.health_check;
  MapReader h(r.node("health_check"), r.child_path("health_check"), errors);
  hc.enabled = true;
  hc.location = h.location();
  if (auto v = h.string("protocol")) {
    if (*v == "http") {
      hc.protocol = HealthCheckConfig::Protocol::kHttp;
    } else if (*v == "tcp") {
      hc.protocol = HealthCheckConfig::Protocol::kTcp;
    } else {
      errors.add(location_of(h.node("protocol")), h.child_path("protocol"),
                 "unknown protocol \"" + *v + "\"; expected http or tcp");
    }
  }
  if (auto v = h.string("path")) {
    if (v->empty() || (*v)[0] != '/') {
      errors.add(location_of(h.node("path")), h.child_path("path"), "must start with \"/\"");
    }
    hc.path = *v;
  }
  if (auto v = h.string("method")) hc.method = *v;
  if (auto v = h.string("host")) hc.host = *v;
  if (auto v = h.integer("port", 1, 65535)) hc.port = static_cast<uint16_t>(*v);
  if (auto v = h.string("matcher")) {
    std::string error;
    if (!parse_status_matcher(*v, &hc.matcher, &error)) {
      errors.add(location_of(h.node("matcher")), h.child_path("matcher"), error);
    }
  }
  if (auto v = h.duration_ms("interval", 100)) hc.interval_ms = *v;
  if (auto v = h.duration_ms("timeout")) hc.timeout_ms = *v;
  if (auto v = h.integer("healthy_threshold", 1, 100))
    hc.healthy_threshold = static_cast<uint32_t>(*v);
  if (auto v = h.integer("unhealthy_threshold", 1, 100))
    hc.unhealthy_threshold = static_cast<uint32_t>(*v);
  if (auto v = h.integer("jitter_percent", 0, 50)) hc.jitter_percent = static_cast<uint32_t>(*v);
  if (hc.timeout_ms > hc.interval_ms) {
    errors.add(h.key_location("timeout"), h.child_path("timeout"),
               "timeout must not be longer than interval");
  }
  h.finish();
}

void read_outlier_detection(MapReader& r, TargetGroupConfig& g, ErrorList& errors) {
  OutlierDetectionConfig& od = g.outlier_detection;
  MapReader o(r.node("outlier_detection"), r.child_path("outlier_detection"), errors);
  od.enabled = true;
  od.location = o.location();
  if (auto v = o.integer("consecutive_failures", 1, 1000))
    od.consecutive_failures = static_cast<uint32_t>(*v);
  if (auto v = o.duration_ms("base_ejection_time")) od.base_ejection_ms = *v;
  if (auto v = o.duration_ms("max_ejection_time")) od.max_ejection_ms = *v;
  if (auto v = o.integer("max_ejection_percent", 0, 100))
    od.max_ejection_percent = static_cast<uint32_t>(*v);
  if (od.max_ejection_ms < od.base_ejection_ms) {
    errors.add(o.key_location("max_ejection_time"), o.child_path("max_ejection_time"),
               "max_ejection_time must not be shorter than base_ejection_time");
  }
  o.finish();
}

// hash_on: source_ip | path | { header: NAME } | { cookie: NAME }
void read_hash_on(MapReader& r, TargetGroupConfig& g, ErrorList& errors) {
  YAML::Node node = r.node("hash_on");
  const std::string path = r.child_path("hash_on");
  if (node.IsScalar()) {
    const std::string& v = node.Scalar();
    if (v == "source_ip") {
      g.hash_on.kind = HashOn::Kind::kSourceIp;
    } else if (v == "path") {
      g.hash_on.kind = HashOn::Kind::kPath;
    } else {
      errors.add(location_of(node), path,
                 "unknown hash key \"" + v +
                     "\"; expected source_ip, path, { header: NAME } or { cookie: NAME }");
    }
  } else if (node.IsMap()) {
    MapReader m(node, path, errors);
    auto header = m.string("header");
    auto cookie = m.string("cookie");
    if (header.has_value() == cookie.has_value()) {
      errors.add(location_of(node), path, "give exactly one of header or cookie");
    } else if (header) {
      g.hash_on = HashOn{HashOn::Kind::kHeader, *header};
    } else {
      g.hash_on = HashOn{HashOn::Kind::kCookie, *cookie};
    }
    m.finish();
  } else {
    errors.add(location_of(node), path,
               "expected source_ip, path, { header: NAME } or { cookie: NAME }");
  }
  if (g.algorithm != lb::Algorithm::kRingHash && g.algorithm != lb::Algorithm::kMaglev) {
    errors.add(location_of(node), path,
               std::string("hash_on applies to ring_hash and maglev, not to ") +
                   lb::algorithm_name(g.algorithm));
  }
}

// retry_on_status: [502, 503, 504]
void read_retry_on_status(MapReader& r, TargetGroupConfig& g, ErrorList& errors) {
  YAML::Node list = r.node("retry_on_status");
  if (!list.IsDefined() || list.IsNull()) return;
  if (!list.IsSequence()) {
    errors.add(location_of(list), r.child_path("retry_on_status"),
               "expected a list of statuses, such as [502, 503, 504]");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    int status = 0;
    bool ok = list[i].IsScalar() && YAML::convert<int>::decode(list[i], status);
    if (!ok || status < 400 || status > 599) {
      errors.add(location_of(list[i]), indexed(r.child_path("retry_on_status"), i),
                 "\"" + (list[i].IsScalar() ? list[i].Scalar() : std::string("?")) +
                     "\" is not a status from 400 to 599");
      continue;
    }
    g.retry_on_status.push_back(status);
  }
}

TargetGroupConfig read_target_group(const YAML::Node& node, const std::string& path,
                                    ErrorList& errors) {
  TargetGroupConfig g;
  MapReader r(node, path, errors);
  g.location = r.location();
  if (auto v = r.string("name", true)) g.name = *v;
  if (auto v = r.string("algorithm")) {
    if (!lb::parse_algorithm(*v, &g.algorithm)) {
      std::vector<std::string_view> names(lb::algorithm_names().begin(),
                                          lb::algorithm_names().end());
      std::string message = "unknown algorithm \"" + *v + "\"; expected one of:";
      for (auto n : names) message += " " + std::string(n);
      std::string hint = closest_match(*v, names);
      if (!hint.empty()) message += " (did you mean \"" + hint + "\"?)";
      errors.add(location_of(r.node("algorithm")), r.child_path("algorithm"), message);
    }
  }
  if (r.has("hash_on")) read_hash_on(r, g, errors);
  if (r.has("health_check")) {
    read_health_check(r, g, errors);
  } else {
    r.node("health_check");
  }
  if (auto v = r.boolean("fail_open")) g.fail_open = *v;
  if (auto v = r.duration_ms("deregistration_delay", 0, int64_t{3600} * 1000)) {
    g.deregistration_delay_ms = *v;
  }
  if (auto v = r.duration_ms("slow_start", 0, int64_t{3600} * 1000)) {
    g.slow_start_ms = *v;
    g.slow_start_location = r.key_location("slow_start");
    if (*v > 0 && lb::uses_hash(g.algorithm)) {
      errors.add(g.slow_start_location, r.child_path("slow_start"),
                 std::string("slow_start does not apply to ") + lb::algorithm_name(g.algorithm) +
                     ": changing weights would move keys between targets");
    }
  }
  if (auto v = r.integer("retries", 0, 5)) g.retries = static_cast<uint32_t>(*v);
  read_retry_on_status(r, g, errors);
  if (auto v = r.duration_ms("total_timeout", 0)) g.total_timeout_ms = *v;
  if (auto v = r.integer("retry_budget_percent", 0, 100)) {
    g.retry_budget_percent = static_cast<uint32_t>(*v);
  }
  if (auto v = r.integer("retry_min_concurrency", 0, 10000)) {
    g.retry_min_concurrency = static_cast<uint32_t>(*v);
  }
  if (auto v = r.integer("slow_start_min_percent", 1, 100)) {
    g.slow_start_min_percent = static_cast<uint32_t>(*v);
  }
  if (r.has("stickiness")) {
    MapReader st(r.node("stickiness"), r.child_path("stickiness"), errors);
    auto& s = g.stickiness;
    if (auto type = st.string("type", true)) {
      if (*type == "lb_cookie") {
        s.type = TargetGroupConfig::Stickiness::Type::kLbCookie;
      } else if (*type == "app_cookie") {
        s.type = TargetGroupConfig::Stickiness::Type::kAppCookie;
      } else {
        errors.add(location_of(st.node("type")), st.child_path("type"),
                   "unknown stickiness type \"" + *type + "\"; expected lb_cookie or app_cookie");
      }
    }
    if (auto v = st.duration_ms("duration", 1000, int64_t{7} * 24 * 3600 * 1000))
      s.duration_ms = *v;
    if (auto v = st.string("cookie_name")) s.cookie_name = *v;
    if (s.type == TargetGroupConfig::Stickiness::Type::kAppCookie && s.cookie_name.empty()) {
      errors.add(st.location(), st.child_path("cookie_name"),
                 "app_cookie needs cookie_name: the application cookie to follow");
    }
    if (s.type != TargetGroupConfig::Stickiness::Type::kNone && lb::uses_hash(g.algorithm)) {
      errors.add(st.location(), r.child_path("stickiness"),
                 std::string("stickiness and ") + lb::algorithm_name(g.algorithm) +
                     " both pin clients; use one of them");
    }
    st.finish();
  } else {
    r.node("stickiness");
  }
  if (r.has("circuit_breaker")) {
    MapReader cb(r.node("circuit_breaker"), r.child_path("circuit_breaker"), errors);
    const uint64_t kMax = uint64_t{1} << 32;
    if (auto v = cb.integer("max_connections", 0, kMax)) g.circuit_breaker.max_connections = *v;
    if (auto v = cb.integer("max_pending_requests", 0, kMax))
      g.circuit_breaker.max_pending_requests = *v;
    if (auto v = cb.integer("max_requests", 0, kMax)) g.circuit_breaker.max_requests = *v;
    cb.finish();
  } else {
    r.node("circuit_breaker");
  }
  if (r.has("outlier_detection")) {
    read_outlier_detection(r, g, errors);
  } else {
    r.node("outlier_detection");
  }
  if (auto v = r.duration_ms("connect_timeout")) g.connect_timeout_ms = *v;
  if (auto v = r.duration_ms("request_timeout")) g.request_timeout_ms = *v;
  if (auto v = r.string("protocol_version")) {
    if (*v == "http1") {
      g.protocol_version = TargetGroupConfig::ProtocolVersion::kHttp1;
    } else if (*v == "http2") {
      g.protocol_version = TargetGroupConfig::ProtocolVersion::kHttp2;
    } else {
      errors.add(location_of(r.node("protocol_version")), r.child_path("protocol_version"),
                 "unknown protocol_version \"" + *v + "\"; expected http1 or http2");
    }
  }
  if (r.has("keepalive")) {
    MapReader k(r.node("keepalive"), r.child_path("keepalive"), errors);
    if (auto v = k.integer("max_idle", 0, 100000))
      g.keepalive.max_idle_per_target = static_cast<uint32_t>(*v);
    if (auto v = k.duration_ms("idle_timeout")) g.keepalive.idle_timeout_ms = *v;
    k.finish();
  } else {
    r.node("keepalive");
  }
  if (r.has("tls")) {
    g.tls = read_target_tls(r.node("tls"), r.child_path("tls"), errors);
  } else {
    r.node("tls");
  }
  for_each_item(r, "targets", errors, [&](const YAML::Node& item, const std::string& p) {
    g.targets.push_back(read_target(item, p, errors));
  });
  r.finish();
  return g;
}

// accept_proxy_protocol: { from: [CIDR...] } and send_proxy_protocol: v1 | v2.
void read_proxy_protocol(MapReader& r, ListenerConfig& l, ErrorList& errors) {
  if (r.has("accept_proxy_protocol")) {
    MapReader a(r.node("accept_proxy_protocol"), r.child_path("accept_proxy_protocol"), errors);
    for_each_item(a, "from", errors, [&](const YAML::Node& item, const std::string& p) {
      std::string error;
      std::optional<core::IpRange> range;
      if (item.IsScalar()) range = core::IpRange::parse(item.Scalar(), &error);
      if (!item.IsScalar()) error = "expected an address range such as 10.0.0.0/8";
      if (range) {
        l.accept_proxy_from.push_back(*range);
      } else {
        errors.add(location_of(item), p, error);
      }
    });
    if (a.is_map() && l.accept_proxy_from.empty()) {
      errors.add(a.location(), a.child_path("from"),
                 "name the proxies that send the header: from: [ 10.0.0.0/8 ]");
    }
    a.finish();
  } else {
    r.node("accept_proxy_protocol");
  }
  if (auto v = r.string("send_proxy_protocol")) {
    if (*v == "v1") {
      l.send_proxy_protocol = ListenerConfig::ProxyProtocol::kV1;
    } else if (*v == "v2") {
      l.send_proxy_protocol = ListenerConfig::ProxyProtocol::kV2;
    } else {
      errors.add(location_of(r.node("send_proxy_protocol")), r.child_path("send_proxy_protocol"),
                 "unknown PROXY protocol version \"" + *v + "\"; expected v1 or v2");
    }
  }
}

// http2: false, or its limits: { max_concurrent_streams, initial_window_size, ... }.
void read_http2(MapReader& r, ListenerConfig& l, ErrorList& errors) {
  if (!r.has("http2")) {
    r.node("http2");
    return;
  }
  YAML::Node node = r.node("http2");
  ListenerConfig::Http2& h = l.http2;
  h.configured = true;
  h.location = location_of(node);
  if (node.IsScalar()) {
    if (auto v = r.boolean("http2")) h.enabled = *v;
    return;
  }
  MapReader m(node, r.child_path("http2"), errors);
  if (auto v = m.boolean("enabled")) h.enabled = *v;
  h2::Limits& lim = h.limits;
  if (auto v = m.integer("max_concurrent_streams", 1, 10000))
    lim.max_concurrent_streams = static_cast<uint32_t>(*v);
  // RFC 9113 6.5.2: windows are at most 2^31-1 bytes.
  if (auto v = m.size("initial_window_size", 1024, (uint64_t{1} << 31) - 1))
    lim.initial_window_size = static_cast<uint32_t>(*v);
  if (auto v = m.size("connection_window_size", 65535, (uint64_t{1} << 31) - 1))
    lim.connection_window_size = static_cast<uint32_t>(*v);
  if (auto v = m.size("max_header_list_size", 1024, 1024 * 1024))
    lim.max_header_list_size = static_cast<uint32_t>(*v);
  if (auto v = m.integer("max_glitches", 1, 1000000)) lim.max_glitches = static_cast<uint32_t>(*v);
  m.finish();
}

ListenerConfig read_listener(const YAML::Node& node, const std::string& path, ErrorList& errors) {
  ListenerConfig l;
  MapReader r(node, path, errors);
  l.location = r.location();
  if (auto v = r.string("name", true)) l.name = *v;
  if (auto a = read_address(r, "bind", true, &l.bind_text, &l.bind_location, errors)) l.bind = *a;
  if (auto v = r.string("protocol")) {
    if (*v == "http") {
      l.protocol = ListenerConfig::Protocol::kHttp;
    } else if (*v == "tcp") {
      l.protocol = ListenerConfig::Protocol::kTcp;
      // Connections to databases and brokers idle for minutes between queries: NLB's
      // default, not an HTTP client's.
      l.idle_timeout_ms = 350000;
    } else {
      errors.add(location_of(r.node("protocol")), r.child_path("protocol"),
                 "unknown protocol \"" + *v + "\"; expected http or tcp");
    }
  }
  read_proxy_protocol(r, l, errors);
  if (l.protocol == ListenerConfig::Protocol::kTcp) {
    read_relay(r, l.relay, errors);
  } else if (r.has("relay")) {
    errors.add(location_of(r.node("relay")), r.child_path("relay"),
               "relay applies to tcp listeners (an HTTP listener reads every request)");
  }
  if (auto v = r.duration_ms("header_timeout")) l.header_timeout_ms = *v;
  if (auto v = r.duration_ms("idle_timeout")) l.idle_timeout_ms = *v;
  // Upper bounds keep one client from making a worker hold megabytes for a head.
  if (auto v = r.size("max_request_line", 256, 1024 * 1024)) l.limits.max_request_line = *v;
  if (auto v = r.size("max_header_size", 1024, 1024 * 1024)) l.limits.max_header_size = *v;
  if (auto v = r.integer("max_headers", 1, 10000)) l.limits.max_headers = *v;
  ClientLimits& c = l.client_limits;
  if (auto v = r.integer("max_connections", 0, 10000000)) c.max_connections = *v;
  if (auto v = r.integer("max_connections_per_client", 0, 1000000))
    c.max_connections_per_client = static_cast<uint32_t>(*v);
  if (auto v = r.size("max_request_body", 0, uint64_t{1} << 50)) c.max_request_body = *v;
  if (auto v = r.size("min_body_bytes_per_second", 0, uint64_t{1} << 30))
    c.min_body_bytes_per_second = *v;
  if (auto v = r.duration_ms("body_rate_grace", 0, 3600 * 1000)) c.body_rate_grace_ms = *v;
  if (auto v = r.duration_ms("send_timeout", 100, 3600 * 1000)) c.send_timeout_ms = *v;
  if (r.has("access_log")) {
    MapReader a(r.node("access_log"), r.child_path("access_log"), errors);
    l.access_log.enabled = true;
    l.access_log.location = a.location();
    if (auto v = a.string("path", true)) l.access_log.path = *v;
    if (auto v = a.string("format")) {
      if (*v == "json") {
        l.access_log.format = AccessLogConfig::Format::kJson;
      } else if (*v == "common") {
        l.access_log.format = AccessLogConfig::Format::kCommon;
      } else if (*v == "combined") {
        l.access_log.format = AccessLogConfig::Format::kCombined;
      } else {
        errors.add(location_of(a.node("format")), a.child_path("format"),
                   "unknown format \"" + *v + "\"; expected json, common or combined");
      }
    }
    a.finish();
  } else {
    r.node("access_log");
  }
  read_http2(r, l, errors);
  if (r.has("tls")) {
    l.tls = read_tls(r.node("tls"), r.child_path("tls"), errors);
  } else {
    r.node("tls");
  }
  for_each_item(r, "rules", errors, [&](const YAML::Node& item, const std::string& p) {
    l.rules.push_back(read_rule(item, p, errors));
  });
  order_rules(l.rules, path, errors);
  if (r.is_map() && l.rules.empty()) {
    errors.add(
        r.location(), r.child_path("rules"),
        "listener has no rules: add at least one, such as \"- forward: { target_group: NAME }\"");
  }
  r.finish();
  return l;
}

// A token from the file (first line), so the secret need not sit in the config.
void read_token_file(MapReader& a, AdminConfig& admin, ErrorList& errors) {
  auto path = a.string("token_file");
  if (!path) return;
  std::ifstream in(*path);
  std::string line;
  if (!in || !std::getline(in, line) || line.empty()) {
    errors.add(location_of(a.node("token_file")), a.child_path("token_file"),
               "cannot read a token from \"" + *path + "\"" +
                   (in ? std::string(": the file is empty") : ": " + std::string(strerror(errno))));
    return;
  }
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  admin.token = line;
}

void read_admin(MapReader& r, AdminConfig& admin, ErrorList& errors) {
  MapReader a(r.node("admin"), r.child_path("admin"), errors);
  admin.location = a.location();
  if (auto v = a.boolean("enabled")) admin.enabled = *v;
  if (a.has("bind")) {
    std::string text;
    if (auto addr = read_address(a, "bind", false, &text, &admin.location, errors)) {
      admin.bind_text = text;
      admin.bind = *addr;
    }
  }
  if (auto v = a.string("token")) admin.token = *v;
  if (a.has("token") && a.has("token_file")) {
    errors.add(location_of(a.node("token_file")), a.child_path("token_file"),
               "give either token or token_file, not both");
  } else {
    read_token_file(a, admin, errors);
  }
  a.finish();
}

void read_root(const YAML::Node& root, Config& config, ErrorList& errors) {
  MapReader r(root, "", errors);
  {
    std::string error;
    config.admin.bind = *core::SocketAddress::parse(config.admin.bind_text, &error, false);
  }
  if (r.has("admin")) {
    read_admin(r, config.admin, errors);
  } else {
    r.node("admin");
  }
  if (r.has("metrics")) {
    MapReader m(r.node("metrics"), r.child_path("metrics"), errors);
    if (auto v = m.duration_ms("per_second_retention", 60 * 1000, int64_t{24} * 3600 * 1000)) {
      config.metrics.per_second_retention_ms = *v;
    }
    if (auto v = m.duration_ms("per_minute_retention", 60 * 1000, int64_t{31} * 86400 * 1000)) {
      config.metrics.per_minute_retention_ms = *v;
    }
    m.finish();
  } else {
    r.node("metrics");
  }
  YAML::Node workers = r.node("workers");
  if (workers.IsDefined() && !(workers.IsScalar() && workers.Scalar() == "auto")) {
    if (auto v = r.integer("workers", 1, 1024)) config.workers = static_cast<unsigned>(*v);
  }
  if (auto v = r.duration_ms("shutdown_timeout", 0)) config.shutdown_timeout_ms = *v;
  if (r.has("cache")) {
    MapReader c(r.node("cache"), r.child_path("cache"), errors);
    config.cache_location = c.location();
    if (auto v = c.size("memory", uint64_t{1} << 20, uint64_t{1} << 40)) config.cache_memory = *v;
    if (c.has("disk")) {
      MapReader d(c.node("disk"), c.child_path("disk"), errors);
      if (auto v = d.string("path", true)) {
        config.cache_disk_path = *v;
        if (v->empty()) errors.add(d.location(), d.child_path("path"), "must not be empty");
      }
      if (auto v = d.size("size", uint64_t{1} << 20, uint64_t{1} << 50))
        config.cache_disk_size = *v;
      d.finish();
    } else {
      c.node("disk");
    }
    c.finish();
  } else {
    r.node("cache");
  }
  for_each_item(r, "listeners", errors, [&](const YAML::Node& item, const std::string& p) {
    config.listeners.push_back(read_listener(item, p, errors));
  });
  for_each_item(r, "target_groups", errors, [&](const YAML::Node& item, const std::string& p) {
    config.target_groups.push_back(read_target_group(item, p, errors));
  });
  for_each_item(r, "alarms", errors, [&](const YAML::Node& item, const std::string& p) {
    config.alarms.push_back(read_alarm(item, p, errors));
  });
  for_each_item(r, "autoscaling_groups", errors, [&](const YAML::Node& item, const std::string& p) {
    config.autoscaling_groups.push_back(read_autoscaling_group(item, p, errors));
  });
  for_each_item(r, "databases", errors, [&](const YAML::Node& item, const std::string& p) {
    config.databases.push_back(read_database(item, p, errors));
  });
  add_database_endpoints(config, errors);
  if (r.has("keepalived")) {
    MapReader k(r.node("keepalived"), r.child_path("keepalived"), errors);
    config.keepalived_location = k.location();
    if (auto v = k.string("track_file", true)) {
      if (v->empty() || (*v)[0] != '/') {
        errors.add(location_of(k.node("track_file")), k.child_path("track_file"),
                   "must be an absolute path (keepalived reads it from its own directory)");
      }
      config.keepalived_track_file = *v;
    }
    k.finish();
  } else {
    r.node("keepalived");
  }
  if (r.has("cluster")) {
    config.cluster = read_cluster(r.node("cluster"), r.child_path("cluster"), errors);
  } else {
    r.node("cluster");
  }
  // A node of a cluster may start before anything was imported: it serves nothing yet.
  if (r.is_map() && config.listeners.empty() && !config.cluster.enabled) {
    errors.add(r.location(), "listeners", "no listeners: the proxy would accept no traffic");
  }
  r.finish();
}

// Rules that cache share the process's store (the controller sizes it when it applies the
// configuration); without one, a store of this configuration's own size.
void attach_cache_store(Config& config, const std::shared_ptr<cache::Store>& process_store,
                        ErrorList& errors) {
  bool caches = false;
  uint64_t room = config.cache_memory / cache::Store::kShards;
  for (size_t l = 0; l < config.listeners.size(); ++l) {
    const auto& rules = config.listeners[l].rules;
    for (size_t i = 0; i < rules.size(); ++i) {
      const RuleCacheConfig& c = rules[i].cache;
      if (!c.enabled) continue;
      caches = true;
      if (c.max_object_size > room) {
        errors.add(c.location,
                   "listeners[" + std::to_string(l) + "].rules[" + std::to_string(i) +
                       "].cache.max_object_size",
                   "an object may take at most a sixteenth of cache.memory (" +
                       std::to_string(room) + " bytes); raise cache.memory or lower this");
      }
    }
  }
  if (!caches) return;
  config.cache_store =
      process_store ? process_store : std::make_shared<cache::Store>(config.cache_memory);
}

}  // namespace

namespace {

// The document's root, or a syntax error in `errors`.
std::optional<YAML::Node> parse_yaml(const std::string& text, ErrorList& errors) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    errors.add(Location{e.mark.line + 1, e.mark.column + 1}, "", "YAML syntax error: " + e.msg);
    return std::nullopt;
  }
}

// A node's own file names its cluster; what every node shares comes from etcd.
void refuse_shared_sections(const YAML::Node& root, ErrorList& errors) {
  if (!root.IsMap() || !root["cluster"]) return;
  for (const auto& entry : root) {
    std::string key = entry.first.Scalar();
    if (!is_shared_section(key)) continue;
    errors.add(location_of(entry.first), key,
               "a node of a cluster takes " + key +
                   " from etcd: put it in the file given to `ballast cluster import`");
  }
}

// The shared document holds only what every node shares.
void refuse_node_sections(const YAML::Node& root, ErrorList& errors) {
  if (!root.IsMap()) return;
  for (const auto& entry : root) {
    std::string key = entry.first.Scalar();
    if (is_shared_section(key)) continue;
    errors.add(location_of(entry.first), key,
               key +
                   " belongs to each node's own file, not the shared configuration (which "
                   "holds listeners, target_groups, alarms, autoscaling_groups and databases)");
  }
}

LoadResult load_root(const YAML::Node& root, const std::string& name, const LoadOptions& options,
                     ErrorList errors);

}  // namespace

LoadResult load_config_string(const std::string& text, const std::string& name,
                              const LoadOptions& options) {
  ErrorList errors(name);
  std::optional<YAML::Node> root = parse_yaml(text, errors);
  if (!root) return {std::nullopt, std::move(errors)};
  refuse_shared_sections(*root, errors);
  return load_root(*root, name, options, std::move(errors));
}

LoadResult load_node_config(const std::string& node_text, const std::string& node_name,
                            const std::string& shared_text, const std::string& shared_name,
                            const LoadOptions& options) {
  ErrorList node_errors(node_name);
  ErrorList shared_errors(shared_name);
  std::optional<YAML::Node> node = parse_yaml(node_text, node_errors);
  std::optional<YAML::Node> shared = parse_yaml(shared_text, shared_errors);
  if (node) refuse_shared_sections(*node, node_errors);
  if (shared) refuse_node_sections(*shared, shared_errors);
  if (shared && !shared->IsNull() && !shared->IsMap()) {
    shared_errors.add(location_of(*shared), "", "expected a mapping of sections");
  }
  if (!node_errors.empty() || !shared_errors.empty()) {
    for (const auto& e : shared_errors.errors()) node_errors.add_from(e);
    return {std::nullopt, std::move(node_errors)};
  }
  // One document: the node's sections, then the shared ones (each keeps its positions).
  YAML::Node combined(YAML::NodeType::Map);
  for (const auto& entry : *node) combined.force_insert(entry.first, entry.second);
  if (shared->IsMap()) {
    for (const auto& entry : *shared) combined.force_insert(entry.first, entry.second);
  }
  LoadResult result = load_root(combined, node_name, options, ErrorList(node_name));
  // Errors in shared sections point at the shared document.
  ErrorList fixed(node_name);
  for (ConfigError e : result.errors.errors()) {
    std::string section = e.path.substr(0, e.path.find_first_of(".["));
    if (is_shared_section(section)) e.file = shared_name;
    fixed.add_from(e);
  }
  result.errors = std::move(fixed);
  return result;
}

LoadResult check_shared_config(const std::string& text, const std::string& name,
                               const LoadOptions& options) {
  ErrorList errors(name);
  std::optional<YAML::Node> root = parse_yaml(text, errors);
  if (!root) return {std::nullopt, std::move(errors)};
  refuse_node_sections(*root, errors);
  return load_root(*root, name, options, std::move(errors));
}

namespace {

LoadResult load_root(const YAML::Node& root, const std::string& name, const LoadOptions& options,
                     ErrorList errors) {
  LoadResult result{std::nullopt, std::move(errors)};
  Config config;
  config.source = name;
  read_root(root, config, result.errors);
  bind_to_node_address(config, result.errors);
  // Like the TLS files: a relative cache folder is taken from the configuration's folder.
  if (!config.cache_disk_path.empty() && config.cache_disk_path[0] != '/') {
    std::filesystem::path base = std::filesystem::path(name).parent_path();
    config.cache_disk_path = (base / config.cache_disk_path).lexically_normal().string();
  }
  // Cross-checks run even after local errors, so one pass reports everything; they skip
  // values that failed to read (those are reported already).
  validate(config, result.errors);
  config.acme_challenges = options.acme_challenges;
  attach_cache_store(config, options.cache_store, result.errors);
  build_tls_contexts(config, std::filesystem::path(name).parent_path().string(),
                     options.ticket_keys, result.errors);
  result.errors.sort_by_position();
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

}  // namespace

LoadResult load_config_file(const std::string& path, const LoadOptions& options) {
  std::ifstream in(path);
  if (!in) {
    LoadResult result{std::nullopt, ErrorList(path)};
    result.errors.add(Location{}, "", "cannot open file: " + std::string(strerror(errno)));
    return result;
  }
  std::stringstream text;
  text << in.rdbuf();
  return load_config_string(text.str(), path, options);
}

}  // namespace ballast::config
