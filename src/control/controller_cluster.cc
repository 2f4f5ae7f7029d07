// A node of a cluster: the shared configuration comes from etcd and is applied through the
// same path as a reload; the node keeps a snapshot of it so that it starts and serves
// while etcd is away; the admin API and /metrics say how current the node is.
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "control/api_support.h"
#include "control/cluster_series.h"
#include "control/controller.h"
#include "core/clock.h"
#include "core/log.h"

namespace ballast::control {

using nlohmann::json;

bool same_cluster_settings(const config::ClusterConfig& a, const config::ClusterConfig& b) {
  return a.enabled == b.enabled && a.node == b.node && a.zone == b.zone && a.address == b.address &&
         a.etcd == b.etcd && a.prefix == b.prefix && a.state_dir == b.state_dir;
}

namespace {

std::string read_text(const std::string& path, bool* ok) {
  std::ifstream in(path);
  *ok = static_cast<bool>(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string shared_name(const config::ClusterConfig& c, int64_t revision) {
  return "etcd:" + c.prefix + "/config@" + std::to_string(revision);
}

}  // namespace

config::LoadResult Controller::load_with_shared(const std::string& text, int64_t revision) const {
  config::LoadOptions options{ticket_keys_, config_->acme_challenges, cache_store_};
  bool ok = false;
  std::string node_text = read_text(config_path_, &ok);
  if (!ok) return config::load_config_file(config_path_, options);  // reports the error
  return config::load_node_config(node_text, config_path_, text,
                                  shared_name(config_->cluster, revision), options);
}

void Controller::start_cluster() {
  const config::ClusterConfig& c = config_->cluster;
  if (cluster_start_) {
    shared_.text = cluster_start_->config;
    shared_.revision = cluster_start_->revision;
    shared_.applied_unix = cluster_start_->saved_unix;
  }
  json self{{"zone", c.zone},
            {"address", c.address},
            {"admin", config_->admin.enabled ? config_->admin.bind.to_string() : ""},
            {"pid", ::getpid()},
            {"started_unix", started_unix_}};
  cluster::Node::Events events;
  events.config = [this](const std::string& text, int64_t revision) {
    shared_config_changed(text, revision);
  };
  events.resynced = [this](const std::string& why) {
    ++cluster_resyncs_;
    LOG_ERROR("cluster: ALARM: %s; the node took etcd's state as it is now", why.c_str());
  };
  events.targets = [this] { sync_cluster_targets(); };
  events.purges = [this] { apply_cluster_purges(); };
  events.progressed = [this] { cluster_progressed(); };
  events.leadership = [this](bool leading) { leadership_changed(leading); };
  cluster_ = std::make_unique<cluster::Node>(loop_, c, self.dump(), std::move(events));
  LOG_INFO("cluster: node %s (zone %s), etcd %s, prefix %s, state in %s", c.node.c_str(),
           c.zone.empty() ? "-" : c.zone.c_str(), c.etcd.endpoints.front().c_str(),
           c.prefix.c_str(), c.state_dir.c_str());
  if (shared_.revision != 0) {
    LOG_INFO("cluster: serving the snapshot of revision %lld until etcd answers",
             static_cast<long long>(shared_.revision));
  }
  cluster_->start(cluster_start_, core::unix_seconds());
  // The snapshot's registered targets serve until etcd says otherwise.
  if (cluster_start_ && !cluster_start_->targets.empty()) sync_cluster_targets();
}

void Controller::shared_config_changed(const std::string& text, int64_t revision) {
  if (revision == shared_.revision && text == shared_.text) return;
  std::string source = shared_name(config_->cluster, revision);
  auto in_effect = apply(load_with_shared(text, revision), "etcd", source);
  if (!in_effect) {
    shared_.rejected = source + ": " + std::to_string(reload_status_.errors.size()) +
                       " error(s); the running configuration stays";
    return;
  }
  shared_.text = text;
  shared_.revision = revision;
  shared_.applied_unix = core::unix_seconds();
  shared_.rejected.clear();
  save_cluster_snapshot();
}

void Controller::save_cluster_snapshot() {
  cluster::Snapshot s;
  s.cluster_id = cluster_->view().cluster_id();
  s.revision = shared_.revision;
  s.saved_unix = shared_.applied_unix;
  s.config = shared_.text;
  for (const auto& [name, target] : cluster_->view().targets()) s.targets.push_back(target.kv);
  cluster_snapshot_stale_ = false;
  std::string error;
  if (!cluster::save_snapshot(config_->cluster.state_dir, s, &error)) {
    LOG_ERROR("cluster: the snapshot was not saved: %s", error.c_str());
  }
}

json Controller::cluster_json() const {
  if (!cluster_) return {{"enabled", false}};
  const cluster::ClusterView& v = cluster_->view();
  const config::ClusterConfig& c = cluster_->settings();
  int64_t now = core::unix_seconds();
  json nodes = json::array();
  for (const auto& [name, kv] : v.nodes()) {
    json about = json::parse(kv.value, nullptr, false);
    if (!about.is_object()) about = json::object();
    about["name"] = name;
    about["self"] = name == c.node;
    nodes.push_back(about);
  }
  return {{"enabled", true},
          {"node", c.node},
          {"zone", c.zone},
          {"prefix", c.prefix},
          {"etcd",
           {{"endpoint", cluster_->endpoint()},
            {"reachable", cluster_->reachable()},
            {"watching", cluster_->watching()},
            {"last_error", cluster_->last_error()},
            {"cluster_id", std::to_string(v.cluster_id())},
            {"revision", v.revision()},
            {"resyncs", cluster_resyncs_},
            {"compactions", cluster_->compactions()}}},
          {"config",
           {{"revision", shared_.revision},
            {"applied_unix", shared_.applied_unix},
            {"age_seconds", cluster_->config_age_seconds(now)},
            {"rejected", shared_.rejected}}},
          {"nodes", nodes},
          {"leader",
           {{"node", cluster_->leader()},
            {"self", cluster_->leading(core::monotonic_ms())},
            {"fencing_token", cluster_->fencing_token()}}}};
}

void Controller::add_cluster_routes() {
  router_.add("GET", "/api/v1/cluster",
              [this](const admin::PathParams&, const admin::AdminRequest&) {
                return ok_json(cluster_json());
              });
  // For the autoscaler's leader (ClusterTraffic): this node's cumulative counts per target,
  // and its seconds of the shared series (alarms', policies') from ?since=.
  router_.add("GET", "/api/v1/cluster/traffic",
              [this](const admin::PathParams&, const admin::AdminRequest& request) {
                auto params = query_params(request.query);
                int64_t since = 0;
                if (params.count("since") != 0) {
                  try {
                    since = std::stoll(params["since"]);
                  } catch (const std::exception&) {
                    throw admin::ClientError(
                        400, "since: expected a Unix second, got \"" + params["since"] + "\"");
                  }
                }
                return ok_json(traffic_json(since));
              });
}

json Controller::traffic_json(int64_t since) const {
  json targets = json::array();
  for (const auto& [key, t] : metrics::sum_over_workers(metrics_).targets) {
    targets.push_back({{"group", key.first},
                       {"address", key.second},
                       {"requests", t.requests},
                       {"in_flight", t.in_flight}});
  }
  // Complete seconds only, and a minute at most: a leader that knows nothing yet (since 0)
  // gets the last minute, not the hour.
  int64_t until = last_sampled_second_ + 1;
  int64_t from = std::max(since, until - 60);
  return {{"node", config_->cluster.node},
          {"targets", targets},
          {"series", series_json(series_, shared_series(*config_), from, until)},
          {"series_until", until}};
}

// The other nodes' admin APIs, where they can be reached: a wildcard bind ("0.0.0.0:9901")
// is reached at the node's cluster address.
void Controller::poll_cluster_traffic() {
  std::map<std::string, std::string> peers;
  for (const auto& [name, kv] : cluster_->view().nodes()) {
    if (name == config_->cluster.node) continue;
    json about = json::parse(kv.value, nullptr, false);
    std::string admin = cluster::string_field(about, "admin");
    if (admin.empty()) continue;
    std::string error;
    auto bound = core::SocketAddress::parse(admin, &error, false);
    std::string address = cluster::string_field(about, "address");
    if (bound && bound->is_wildcard() && !address.empty()) {
      admin = (address.find(':') != std::string::npos ? "[" + address + "]" : address) + ":" +
              std::to_string(bound->port());
    }
    peers[name] = admin;
  }
  cluster_traffic_->poll(peers);
}

void Controller::render_cluster_metrics(metrics::PrometheusWriter& w) const {
  if (!cluster_) return;
  using Type = metrics::PrometheusWriter::Type;
  int64_t now = core::unix_seconds();
  w.family("ballast_cluster_config_age_seconds", Type::kGauge,
           "Seconds since this node last knew its configuration to be etcd's latest (0 while "
           "connected).");
  w.sample({}, static_cast<double>(cluster_->config_age_seconds(now)));
  w.family("ballast_cluster_config_revision", Type::kGauge,
           "The etcd revision of the shared configuration in effect.");
  w.sample({}, static_cast<double>(shared_.revision));
  w.family("ballast_cluster_etcd_connected", Type::kGauge,
           "1 while etcd answers this node's keepalives and its watch runs.");
  w.sample({}, cluster_->connected() ? 1 : 0);
  w.family("ballast_cluster_nodes", Type::kGauge, "Nodes in the cluster, as this node sees it.");
  w.sample({}, static_cast<double>(cluster_->view().nodes().size()));
  w.family("ballast_cluster_leader", Type::kGauge,
           "1 while this node leads the autoscaler (and its lease stands).");
  w.sample({}, cluster_->leading(core::monotonic_ms()) ? 1 : 0);
  w.family("ballast_cluster_resyncs_total", Type::kCounter,
           "Full re-reads because etcd's revision went back or its cluster id changed.");
  w.sample({}, static_cast<double>(cluster_resyncs_));
  w.family("ballast_cluster_compactions_total", Type::kCounter,
           "Full re-reads because the watch's revision was compacted.");
  w.sample({}, static_cast<double>(cluster_->compactions()));
}

}  // namespace ballast::control
