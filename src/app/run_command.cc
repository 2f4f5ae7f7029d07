#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "app/commands.h"
#include "cluster/snapshot.h"
#include "config/config_loader.h"
#include "control/controller.h"
#include "control/handover.h"
#include "core/log.h"
#include "tls/ticket_keys.h"

namespace ballast::app {

namespace {
// Every client and upstream connection is a descriptor; the usual soft limit of 1024
// would cap a proxy at a few hundred clients. Raise it to the hard limit, as haproxy
// and nginx do, and, running as root, the hard limit too (as haproxy does): a proxy that
// runs out of descriptors stops accepting, and its queued clients wait for seconds.
void raise_file_limit() {
  constexpr rlim_t kWanted = 65536;
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_max < kWanted) {
    rlimit raised{kWanted, kWanted};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return;
  }
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  // Below this a busy site meets the limit; above it, the operator chose.
  constexpr rlim_t kLow = 4096;
  if (lim.rlim_cur < kLow) {
    LOG_WARN(
        "open file limit is %llu (hard): ballast holds about half that many proxied "
        "connections; raise it (LimitNOFILE in the systemd unit, ulimit -Hn), to %llu say",
        static_cast<unsigned long long>(lim.rlim_cur), static_cast<unsigned long long>(kWanted));
  }
}
// A node of a cluster starts from its snapshot, the shared configuration it last applied,
// so that it serves at once whether etcd answers or not; etcd's newer revisions follow.
// Without one (a first start) it starts with its own file alone, serving nothing until
// etcd gives it the shared configuration.
std::optional<cluster::Snapshot> start_from_snapshot(const std::string& config_path,
                                                     const config::LoadOptions& options,
                                                     config::LoadResult* result) {
  const config::ClusterConfig& c = result->config->cluster;
  std::string error;
  std::optional<cluster::Snapshot> snapshot = cluster::load_snapshot(c.state_dir, &error);
  if (!error.empty()) LOG_ERROR("cluster: %s", error.c_str());
  if (!snapshot) {
    LOG_INFO("cluster: no snapshot in %s: waiting for etcd's configuration", c.state_dir.c_str());
    return std::nullopt;
  }
  std::ifstream in(config_path);
  std::stringstream node_text;
  node_text << in.rdbuf();
  std::string name =
      "snapshot:" + cluster::snapshot_path(c.state_dir) + "@" + std::to_string(snapshot->revision);
  config::LoadResult combined =
      config::load_node_config(node_text.str(), config_path, snapshot->config, name, options);
  if (!combined.config) {
    for (const auto& e : combined.errors.errors()) LOG_ERROR("%s", e.to_string().c_str());
    LOG_ERROR("cluster: the snapshot does not load with this node's file; waiting for etcd");
    return std::nullopt;
  }
  *result = std::move(combined);
  return snapshot;
}

}  // namespace

int run_command(const std::string& config_path, int takeover_fd) {
  // One set of session ticket keys for the process: every TLS listener, every reload.
  auto ticket_keys = std::make_shared<tls::TicketKeys>();
  std::optional<control::Handover> takeover;
  if (takeover_fd >= 0) {
    ::fcntl(takeover_fd, F_SETFD, FD_CLOEXEC);
    std::string error;
    takeover = control::receive_handover(takeover_fd, 10000, &error);
    if (!takeover) {
      fprintf(stderr, "upgrade: %s; not starting\n", error.c_str());
      return 1;
    }
    // Sessions of the old process resume here.
    if (!takeover->ticket_keys.empty()) ticket_keys->import_keys(takeover->ticket_keys);
  }
  // One ACME challenge board for the process: every configuration answers from it.
  auto acme_challenges = std::make_shared<tls::ChallengeBoard>();
  // One response cache for the process: reloads keep what it holds (the controller sizes it
  // from each configuration's cache.memory).
  auto cache_store = std::make_shared<cache::Store>(uint64_t{256} << 20);
  config::LoadResult result =
      config::load_config_file(config_path, {ticket_keys, acme_challenges, cache_store});
  if (!result.config) {
    std::string summary = config_path + ": " + std::to_string(result.errors.errors().size()) +
                          " error(s); not starting";
    for (const auto& e : result.errors.errors()) {
      fprintf(stderr, "%s\n", e.to_string().c_str());
      if (summary.size() < 2000) summary += "; " + e.to_string();
    }
    fprintf(stderr, "%s: %zu error(s); not starting\n", config_path.c_str(),
            result.errors.errors().size());
    if (takeover) {
      std::string answer = "failed: " + summary + "\n";
      ssize_t ignored = ::send(takeover_fd, answer.data(), answer.size(), MSG_NOSIGNAL);
      (void)ignored;
      takeover->close_unused();
    }
    return 1;
  }
  std::optional<cluster::Snapshot> snapshot;
  if (result.config->cluster.enabled) {
    snapshot =
        start_from_snapshot(config_path, {ticket_keys, acme_challenges, cache_store}, &result);
  }
  raise_file_limit();
  control::Controller controller(config_path, std::move(*result.config), std::move(ticket_keys),
                                 std::move(takeover), takeover_fd, std::move(cache_store));
  controller.set_cluster_start(std::move(snapshot));
  return controller.run();
}

}  // namespace ballast::app
