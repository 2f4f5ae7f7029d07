#include "config/cluster_reader.h"

#include <array>

#include "config/yaml_reader.h"
#include "http/url.h"

namespace ballast::config {

namespace {

// DNS-label-like, so that a node's name is safe in a key, a folder and a metric label.
bool valid_node_name(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> read_etcd_endpoints(MapReader& e, ErrorList& errors) {
  std::vector<std::string> endpoints;
  YAML::Node list = e.node("endpoints");
  std::string path = e.child_path("endpoints");
  if (!list.IsDefined() || !list.IsSequence() || list.size() == 0) {
    errors.add(list.IsDefined() ? location_of(list) : e.location(), path,
               "expected a list of etcd endpoints (http://HOST:PORT), at least one");
    return endpoints;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node& item = list[i];
    if (!item.IsScalar()) {
      errors.add(location_of(item), indexed(path, i), "expected a URL (http://HOST:PORT)");
      continue;
    }
    std::string url = item.Scalar();
    if (url.rfind("https://", 0) == 0) {
      errors.add(location_of(item), indexed(path, i),
                 "TLS to etcd is not supported yet: give its plain http:// client URL on a "
                 "trusted network (loopback, or a local TLS-terminating proxy)");
      continue;
    }
    http::HttpUrl parsed;
    std::string error;
    if (!http::parse_http_url(url, &parsed, &error)) {
      errors.add(location_of(item), indexed(path, i), error);
      continue;
    }
    if (parsed.path != "/") {
      errors.add(location_of(item), indexed(path, i),
                 "an etcd endpoint is http://HOST:PORT, without a path");
      continue;
    }
    endpoints.push_back(url);
  }
  return endpoints;
}

ClusterConfig read_cluster(const YAML::Node& node, const std::string& path, ErrorList& errors) {
  ClusterConfig c;
  MapReader r(node, path, errors);
  c.enabled = true;
  c.location = r.location();
  if (auto v = r.string("node", true)) {
    c.node = *v;
    if (!valid_node_name(c.node)) {
      errors.add(location_of(r.node("node")), r.child_path("node"),
                 "\"" + c.node + "\": a node name is 1 to 63 of a-z, 0-9, '-', '.', '_'");
    }
  }
  if (auto v = r.string("zone")) c.zone = *v;
  if (auto v = r.string("address")) {
    std::string error;
    if (!core::SocketAddress::parse(*v + ":0", &error, false) &&
        !core::SocketAddress::parse("[" + *v + "]:0", &error, false)) {
      errors.add(location_of(r.node("address")), r.child_path("address"),
                 "\"" + *v + "\" is not an IP address");
    } else {
      c.address = *v;
    }
  }
  if (r.has("etcd")) {
    MapReader e(r.node("etcd"), r.child_path("etcd"), errors);
    c.etcd_endpoints = read_etcd_endpoints(e, errors);
    if (auto v = e.string("prefix")) {
      c.prefix = *v;
      bool ok = c.prefix.size() > 1 && c.prefix[0] == '/' && c.prefix.back() != '/' &&
                c.prefix.find_first_of(" \t\r\n") == std::string::npos;
      if (!ok) {
        errors.add(location_of(e.node("prefix")), e.child_path("prefix"),
                   "\"" + c.prefix +
                       "\": a key prefix starts with '/', does not end with one, "
                       "and has no spaces (\"/ballast\")");
      }
    }
    if (auto v = e.duration_ms("timeout", 100, 60 * 1000)) c.etcd_timeout_ms = *v;
    e.finish();
  } else {
    r.node("etcd");
    errors.add(r.location(), r.child_path("etcd"),
               "a cluster needs its etcd: etcd: { endpoints: [http://127.0.0.1:2379] }");
  }
  if (auto v = r.string("state_dir")) {
    if (v->empty() || (*v)[0] != '/') {
      errors.add(location_of(r.node("state_dir")), r.child_path("state_dir"),
                 "must be an absolute path");
    }
    c.state_dir = *v;
  } else if (!c.node.empty()) {
    c.state_dir = "/var/lib/ballast/" + c.node;
  }
  r.finish();
  return c;
}

bool is_shared_section(std::string_view key) {
  constexpr std::array<std::string_view, 5> kShared = {"listeners", "target_groups", "alarms",
                                                       "autoscaling_groups", "databases"};
  for (auto s : kShared) {
    if (s == key) return true;
  }
  return false;
}

void bind_to_node_address(Config& config, ErrorList& errors) {
  if (!config.cluster.enabled || config.cluster.address.empty()) return;
  const std::string& host = config.cluster.address;
  bool v6 = host.find(':') != std::string::npos;
  for (auto& l : config.listeners) {
    if (!l.bind.is_wildcard()) continue;
    std::string text = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(l.bind.port());
    std::string error;
    auto addr = core::SocketAddress::parse(text, &error, false);
    if (!addr) {
      errors.add(l.location, "cluster.address", error);
      continue;
    }
    l.bind = *addr;
    l.bind_text = text;
  }
}

}  // namespace ballast::config
