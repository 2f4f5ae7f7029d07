#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "core/event_loop.h"
#include "http/http_call.h"
#include "metrics/count_deltas.h"
#include "metrics/time_series.h"

namespace ballast::control {

// What the other nodes of a cluster send to each target, for the autoscaler leader's
// policies: without it, target tracking on requests or connections per target would see
// only the leader's own share (a third of the traffic with three nodes, none at all when a
// virtual IP keeps the clients on another node). Counters stay on their nodes (etcd holds
// no counters): once a second the leader asks each peer's admin API for its cumulative
// counts (GET /api/v1/cluster/traffic) and turns them into increases. The same answer
// carries each peer's seconds of the series the alarms read (cluster_series.h), added to
// `series` as they come: the leader's alarms evaluate the whole cluster.
class ClusterTraffic {
 public:
  // `bearer_token`: the admin token, sent when set (the nodes of a cluster share one).
  ClusterTraffic(core::EventLoop& loop, std::string bearer_token, metrics::TimeSeriesStore& series);
  ~ClusterTraffic();

  // Each peer's admin API ("HOST:PORT", by node name); one call in flight per peer. Peers no
  // longer listed are forgotten. Once a second, after the autoscaler has taken its shares.
  void poll(const std::map<std::string, std::string>& peers);

  struct Share {
    double requests = 0;   // sent by the peers since the last take() of this target
    double in_flight = 0;  // in flight on the peers, as they last said
  };
  Share take(const std::string& group, const std::string& address);

  // Peers whose counts are missing, and why ("lb-2: connect: ..."); empty when all answer.
  std::string problems() const;

 private:
  using Target = std::pair<std::string, std::string>;  // (target group, address)
  struct Peer {
    std::string admin;
    std::unique_ptr<http::HttpCall> call;
    std::map<Target, double> in_flight;
    metrics::CountDeltas<Target> requests;
    int64_t series_until = 0;  // its seconds before this one are in series_ (0: none yet)
    std::string error;
  };
  void answered(const std::string& name, const http::HttpCallResult& r);

  core::EventLoop& loop_;
  std::string bearer_token_;
  metrics::TimeSeriesStore& series_;
  std::map<std::string, Peer> peers_;
  std::map<Target, double> pending_requests_;
};

}  // namespace ballast::control
