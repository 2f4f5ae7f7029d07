// Readiness for what sits in front of ballast: GET /ready for a check script or a load
// balancer's health check, and keepalived's track file, which makes the node give up its
// virtual IPs the moment it stops being ready (a drain on SIGTERM, or a cluster node that
// has no configuration yet), without waiting for a check script's next run.

#include "control/api_support.h"
#include "control/controller.h"
#include "core/atomic_file.h"
#include "core/log.h"

namespace ballast::control {

std::string Controller::not_ready_reason() const {
  if (stopping_) return "stopping: finishing in-flight requests";
  if (config_->listeners.empty()) {
    return cluster_ ? "no shared configuration from etcd yet (ballast cluster import)"
                    : "no listeners";
  }
  return "";
}

void Controller::update_readiness() {
  const std::string& path = config_->keepalived_track_file;
  if (path.empty()) return;
  // keepalived: 0 keeps the instance's priority; with the track file's weight 0, anything
  // else puts the instance in FAULT, which releases its addresses at once.
  std::string value = ready() ? "0" : "1";
  if (track_written_ == path + "\n" + value) return;
  std::string error;
  if (!core::write_file_atomically(path, value + "\n", 0644, &error)) {
    LOG_ERROR("keepalived track file %s", error.c_str());
    return;
  }
  track_written_ = path + "\n" + value;
  LOG_INFO("keepalived track file %s: %s (%s)", path.c_str(), value.c_str(),
           ready() ? "ready" : not_ready_reason().c_str());
}

void Controller::add_readiness_routes() {
  router_.add("GET", "/ready", [this](const admin::PathParams&, const admin::AdminRequest&) {
    if (ready()) return ok_json({{"ready", true}});
    return ok_json({{"ready", false}, {"reason", not_ready_reason()}}, 503);
  });
}

}  // namespace ballast::control
