#include "proxy/server.h"

#include <signal.h>

#include <cstring>

#include "core/log.h"
#include "proxy/worker.h"

namespace ballast::proxy {

namespace {
sigset_t server_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}
}  // namespace

void block_server_signals() {
  sigset_t set = server_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

Server::Server(config::Config config) : config_(std::move(config)) {}

Server::~Server() = default;

int Server::run() {
  block_server_signals();
  for (const auto& g : config_.target_groups) {
    boards_.push_back(
        g.health_check.enabled ? std::make_shared<health::HealthBoard>(g.targets.size()) : nullptr);
    breakers_.push_back(std::make_shared<CircuitBreaker>(g.circuit_breaker));
  }
  checker_ = std::make_unique<health::HealthChecker>(config_, boards_);
  unsigned n = config_.effective_workers();
  for (unsigned i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<Worker>(config_, i, boards_, breakers_));
    std::string error;
    if (!workers_.back()->open_listeners(&error)) {
      LOG_ERROR("%s", error.c_str());
      return 1;
    }
  }
  checker_->start();
  for (auto& w : workers_) w->start();
  for (const auto& l : config_.listeners) {
    LOG_INFO("listener \"%s\" on %s", l.name.c_str(), l.bind.to_string().c_str());
  }
  LOG_INFO("ballast running with %u worker thread(s)", n);

  sigset_t set = server_signals();
  while (true) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGTERM || sig == SIGINT) {
      LOG_INFO("received %s: no longer accepting; finishing in-flight requests (up to %lldms)",
               strsignal(sig), static_cast<long long>(config_.shutdown_timeout_ms));
      break;
    }
    if (sig == SIGHUP) LOG_WARN("SIGHUP: configuration reload is not available yet; ignored");
  }
  for (auto& w : workers_) w->request_shutdown(config_.shutdown_timeout_ms);
  for (auto& w : workers_) w->join();
  workers_.clear();
  checker_->stop();
  LOG_INFO("stopped");
  return 0;
}

}  // namespace ballast::proxy
