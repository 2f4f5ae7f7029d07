// WebSocket tunnels: once a target answers an upgrade request with 101, the connection
// stops being HTTP and the session passes bytes both ways, within the same queue budgets
// (a slow side stops the other side's reads), until either side closes or it idles for the
// listener's idle_timeout.
#include "core/log.h"
#include "proxy/session.h"
#include "proxy/worker.h"

namespace ballast::proxy {

void Session::start_tunnel() {
  phase_ = Phase::kTunnel;
  upstream_timer_.cancel();  // request_timeout bounds the handshake, not the conversation
  stats_->websocket_upgrades.add();
  stats_->active_tunnels.add(1);
  // The exchange's line and total time cover the handshake; the tunnel is the connection's.
  record_total_time();
  if (exchange_.log.pending) log_exchange();
  exchange_.tunnel_activity_ms = worker_.loop().now_ms();
  worker_.loop().timers().arm(client_timer_, listener_->idle_timeout_ms, worker_.loop().now_ms());
}

bool Session::pump_tunnel() {
  bool progress = false;
  if (size_t n = std::min(client_in_.size(), upstream_budget()); n > 0) {
    upstream_out_.append(client_in_.data(), n);
    client_in_.consume(n);
    progress = true;
  }
  progress |= flush_upstream();
  progress |= read_upstream();
  if (size_t n = std::min(upstream_in_.size(), client_budget()); n > 0) {
    client_out_.append(upstream_in_.data(), n);
    upstream_in_.consume(n);
    progress = true;
  }
  if (progress) exchange_.tunnel_activity_ms = worker_.loop().now_ms();
  // Either side closed: what it sent before goes on, then both connections end (WebSocket
  // has its own closing handshake, which has happened by then when both sides are polite).
  if (exchange_.upstream_eof && upstream_in_.empty()) {
    end_tunnel();
    start_closing();
    return true;
  }
  if (client_eof_ && client_in_.empty() && upstream_out_.empty()) {
    close();
    return true;
  }
  return progress;
}

void Session::end_tunnel() {
  stats_->active_tunnels.add(-1);
}

void Session::on_tunnel_timer() {
  int64_t now = worker_.loop().now_ms();
  int64_t idle = now - exchange_.tunnel_activity_ms;
  if (idle >= listener_->idle_timeout_ms) {
    LOG_INFO("%s %s: WebSocket tunnel idle for %lldms, closed", peer_ip_.c_str(),
             listener_->name.c_str(), static_cast<long long>(idle));
    close();
    return;
  }
  // Traffic since the timer was armed: wait for the rest of the idle time (re-arming per
  // read would cost a timer operation for every message).
  worker_.loop().timers().arm(client_timer_, listener_->idle_timeout_ms - idle, now);
}

}  // namespace ballast::proxy
