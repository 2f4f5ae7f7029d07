#include "config/cluster_reader.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

#include "config/yaml_reader.h"
#include "http/url.h"
#include "tls/client_context.h"
#include "tls/openssl_util.h"

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

std::vector<std::string> read_endpoints(MapReader& e, ErrorList& errors) {
  std::vector<std::string> endpoints;
  YAML::Node list = e.node("endpoints");
  std::string path = e.child_path("endpoints");
  if (!list.IsDefined() || !list.IsSequence() || list.size() == 0) {
    errors.add(list.IsDefined() ? location_of(list) : e.location(), path,
               "expected a list of etcd endpoints (http://HOST:PORT or https://HOST:PORT), "
               "at least one");
    return endpoints;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node& item = list[i];
    if (!item.IsScalar()) {
      errors.add(location_of(item), indexed(path, i), "expected a URL (http://HOST:PORT)");
      continue;
    }
    std::string url = item.Scalar();
    http::HttpUrl parsed;
    std::string error;
    if (!http::parse_http_url(url, &parsed, &error, http::Schemes::kHttpOrHttps)) {
      errors.add(location_of(item), indexed(path, i), error);
      continue;
    }
    if (parsed.path != "/") {
      errors.add(location_of(item), indexed(path, i),
                 "an etcd endpoint is http[s]://HOST:PORT, without a path");
      continue;
    }
    if (!endpoints.empty() &&
        (url.rfind("https://", 0) == 0) != (endpoints.front().rfind("https://", 0) == 0)) {
      errors.add(location_of(item), indexed(path, i),
                 "mixes http:// and https:// endpoints: one etcd speaks one of them");
      continue;
    }
    endpoints.push_back(url);
  }
  return endpoints;
}

// tls: { ca, cert, key }: checked by building the context here, so that a bad file is told
// at its line rather than when the node first calls etcd.
void read_etcd_tls(MapReader& e, EtcdAccess& a, ErrorList& errors) {
  if (!e.has("tls")) return;
  MapReader t(e.node("tls"), e.child_path("tls"), errors);
  if (auto v = t.string("ca")) a.ca_file = *v;
  if (auto v = t.string("cert")) a.cert_file = *v;
  if (auto v = t.string("key")) a.key_file = *v;
  t.finish();
  if (!a.https()) {
    errors.add(location_of(e.node("tls")), e.child_path("tls"),
               "tls is for https:// endpoints; these are http://");
    return;
  }
  if (a.cert_file.empty() != a.key_file.empty()) {
    errors.add(location_of(e.node("tls")), e.child_path("tls"),
               "a client certificate needs both cert and key");
    return;
  }
  try {
    tls::ClientSettings settings;
    settings.ca_file = a.ca_file;
    settings.cert_file = a.cert_file;
    settings.key_file = a.key_file;
    tls::ClientContext::build(settings);
  } catch (const tls::Error& err) {
    errors.add(location_of(e.node("tls")), e.child_path("tls"), err.what());
  }
}

// username and password_file: etcd's authentication (its v3 auth, `etcdctl auth enable`).
void read_etcd_user(MapReader& e, EtcdAccess& a, ErrorList& errors) {
  std::optional<std::string> user = e.string("username");
  std::optional<std::string> file = e.string("password_file");
  if (user.has_value() != file.has_value()) {
    errors.add(e.location(), e.child_path(user ? "password_file" : "username"),
               "etcd's authentication needs both username and password_file");
    return;
  }
  if (!user) return;
  a.username = *user;
  std::ifstream in(*file);
  std::string password;
  if (in.is_open()) std::getline(in, password);
  if (!in.is_open()) {
    errors.add(location_of(e.node("password_file")), e.child_path("password_file"),
               "cannot read \"" + *file + "\": " + std::strerror(errno));
    return;
  }
  if (password.empty()) {
    errors.add(location_of(e.node("password_file")), e.child_path("password_file"),
               "\"" + *file + "\" is empty: its first line is the password");
    return;
  }
  a.password = password;
}

}  // namespace

EtcdAccess read_etcd_access(MapReader& e, ErrorList& errors) {
  EtcdAccess a;
  a.endpoints = read_endpoints(e, errors);
  read_etcd_tls(e, a, errors);
  read_etcd_user(e, a, errors);
  return a;
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
    c.etcd = read_etcd_access(e, errors);
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
