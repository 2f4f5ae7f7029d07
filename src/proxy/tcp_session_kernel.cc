// TcpSession's part in the kernel relay (src/kernel_relay/): joining it, watching the pair
// while the kernel moves the bytes, and taking a direction back when the relay stops.
#include <sys/socket.h>

#include <algorithm>

#include "core/log.h"
#include "core/sockets.h"
#include "kernel_relay/kernel_relay.h"
#include "proxy/kernel_notices.h"
#include "proxy/tcp_session.h"
#include "proxy/worker.h"

namespace ballast::proxy {

namespace {

using kernel_relay::KernelRelay;

// What the kernel relay may forward from a socket beyond what the peer's send queue has
// taken: the bound on bytes waiting inside the kernel between the two (the relay's own
// queue has none). A flow that outruns the checks that raise it is handed back to user
// space, where the socket buffers bound it as for any connection.
constexpr uint64_t kKernelBudget = uint64_t{1} << 20;
// Checks of a pair whose bytes stand still: for the idle timeout and the byte counters.
// Each quiet check doubles the wait, up to 8 s: a pool's idle connections cost little.
constexpr int64_t kQuietCheckMs = 1000;
constexpr int kQuietDoublings = 3;
// Checks of a busy pair come before its budget can run out, but no closer than this.
constexpr int64_t kBusyCheckMs = 5;
// Polls of a destination that has yet to take what the relay forwarded, backing off.
constexpr int64_t kDrainPollMaxMs = 64;

}  // namespace

void TcpSession::join_kernel_relay() {
  KernelRelay* relay = KernelRelay::shared();
  if (relay == nullptr) return;  // the refusal was logged once, when it was loaded
  const int up = upstream_->fd();
  // A PROXY header goes first, by hand: the client's bytes would overtake it otherwise.
  if (!to_target_.prefix.empty()) {
    ssize_t n = ::send(up, to_target_.prefix.data(), to_target_.prefix.size(), MSG_NOSIGNAL);
    if (n > 0) to_target_.prefix.erase(0, static_cast<size_t>(n));
    if (!to_target_.prefix.empty()) return;  // (a fresh connection's buffer takes it: rare)
  }
  to_target_.dest_base = kernel_relay::bytes_taken(up);
  to_client_.dest_base = kernel_relay::bytes_taken(fd_);
  KernelRelay::Joined joined;
  std::string why;
  if (!relay->join(fd_, up, kKernelBudget, worker_.index(), &joined, &why)) {
    LOG_DEBUG("%s %s: relayed in user space (%s)", client_.ip_string().c_str(),
              listener_->name.c_str(), why.c_str());
    return;
  }
  to_target_.source_cookie = to_client_.dest_cookie = joined.cookie_a;
  to_client_.source_cookie = to_target_.dest_cookie = joined.cookie_b;
  to_target_.source_in_kernel = joined.a_in;
  to_client_.source_in_kernel = joined.b_in;
  // With the target's socket left out, the client's bytes find no peer in the relay: it
  // hands them back at the first (join() set that budget to 0).
  to_target_.mover = Mover::kKernel;
  to_target_.budget = joined.b_in ? kKernelBudget : 0;
  kernel_checked_ms_ = worker_.loop().now_ms();
  stats_->kernel_relayed.add();
  if (KernelNotices* notices = worker_.kernel_notices(); notices != nullptr) {
    notices->watch(joined.cookie_a, this);
    notices->watch(joined.cookie_b, this);
  }
  if (!joined.b_in) return;
  to_client_.mover = Mover::kKernel;
  to_client_.budget = kKernelBudget;
  // Their traffic is the kernel's business now: only hang-ups wake this session.
  worker_.loop().watch(fd_, EPOLLRDHUP, this);
  worker_.loop().watch(up, EPOLLRDHUP, upstream_.get());
}

bool TcpSession::kernel_moves_bytes() const {
  return to_target_.mover != Mover::kUserSpace || to_client_.mover != Mover::kUserSpace;
}

void TcpSession::count_forwarded(Direction& d, uint64_t forwarded) {
  if (forwarded <= d.forwarded) return;
  const uint64_t delta = forwarded - d.forwarded;
  d.forwarded = forwarded;
  (&d == &to_target_ ? stats_->bytes_in : stats_->bytes_out).add(delta);
  moved_since_check_ += delta;
}

bool TcpSession::kernel_drained(const Direction& d, int to) {
  return kernel_relay::bytes_taken(to) >= d.dest_base + d.forwarded;
}

bool TcpSession::pump_kernel(Direction& d, int from, int to, bool& to_writable) {
  if (d.mover == Mover::kKernel) {
    if (!d.source_closing || d.shut) return false;  // the kernel moves the bytes
    // The source hung up. The program judged every byte it sent before that.
    KernelRelay::Tally tally;
    const bool read = KernelRelay::shared()->tally(d.source_cookie, &tally);
    if (read) count_forwarded(d, tally.forwarded);  // final: nothing follows the hang-up
    if (read && tally.passing) {
      hand_back(d);  // some bytes are left for user space: they go after
    } else {
      if (int err = core::socket_error(from); err != 0) {
        LOG_DEBUG("%s %s: %s; closed", client_.ip_string().c_str(), listener_->name.c_str(),
                  strerror(err));
        close();
        return true;
      }
      if (!kernel_drained(d, to)) return poll_drain(to);
      // Everything it sent reached the destination's socket: pass the end on.
      ::shutdown(to, SHUT_WR);
      d.source_ended = true;
      d.shut = true;
      return true;
    }
  }
  if (!kernel_drained(d, to)) return poll_drain(to);
  // What the kernel forwarded is ahead in the destination's queue: the rest goes by hand.
  d.mover = Mover::kUserSpace;
  d.source_readable = true;
  to_writable = true;
  watch_all_events();
  return true;
}

void TcpSession::hand_back(Direction& d) {
  d.mover = Mover::kHandingBack;
  stats_->kernel_handbacks.add();
}

bool TcpSession::poll_drain(int to) {
  // A destination that failed will take nothing more: the pair is over.
  if (int err = core::socket_error(to); err != 0) {
    LOG_DEBUG("%s %s: %s; closed", client_.ip_string().c_str(), listener_->name.c_str(),
              strerror(err));
    close();
    return true;
  }
  worker_.loop().timers().arm(timer_, drain_poll_ms_, worker_.loop().now_ms());
  return false;
}

void TcpSession::watch_all_events() {
  worker_.loop().watch(fd_, core::EventLoop::kAllEvents, this);
  worker_.loop().watch(upstream_->fd(), core::EventLoop::kAllEvents, upstream_.get());
  client_writable_ = true;  // (a send that finds it full says so)
  upstream_writable_ = true;
}

void TcpSession::check_kernel_relay(int64_t now) {
  KernelRelay* relay = KernelRelay::shared();
  for (Direction* d : {&to_target_, &to_client_}) {
    if (d->mover != Mover::kKernel) continue;
    KernelRelay::Tally tally;
    if (!relay->tally(d->source_cookie, &tally)) continue;
    count_forwarded(*d, tally.forwarded);
    if (tally.passing) {
      hand_back(*d);
      continue;
    }
    const Direction& back = d == &to_target_ ? to_client_ : to_target_;
    if (back.source_in_kernel && d->budget - d->forwarded < kKernelBudget / 2) {
      // Raise it to what the destination took, plus the allowance.
      const int to = d == &to_target_ ? upstream_->fd() : fd_;
      const uint64_t taken = kernel_relay::bytes_taken(to);
      const uint64_t budget = (taken > d->dest_base ? taken - d->dest_base : 0) + kKernelBudget;
      if (budget > d->budget &&
          relay->set_budget(d->source_cookie, d->dest_cookie, worker_.index(), budget)) {
        d->budget = budget;
      }
    }
  }
  if (moved_since_check_ > 0) {
    activity_ms_ = now;
    quiet_checks_ = 0;
  } else if (quiet_checks_ < kQuietDoublings) {
    ++quiet_checks_;
  }
  drive();
  if (phase_ != Phase::kRelaying) return;
  if (!kernel_moves_bytes()) {
    worker_.loop().timers().arm(timer_, listener_->idle_timeout_ms - (now - activity_ms_), now);
    return;
  }
  if (now - activity_ms_ >= listener_->idle_timeout_ms) {
    LOG_INFO("%s %s: idle for %lldms; closed", client_.ip_string().c_str(), listener_->name.c_str(),
             static_cast<long long>(now - activity_ms_));
    close();
    return;
  }
  const int64_t due_ms = next_kernel_check_ms(now);
  moved_since_check_ = 0;
  kernel_checked_ms_ = now;
  worker_.loop().timers().arm(timer_, due_ms, now);
}

int64_t TcpSession::next_kernel_check_ms(int64_t now) {
  if (to_target_.awaits_drain() || to_client_.awaits_drain()) {
    const int64_t poll = drain_poll_ms_;
    drain_poll_ms_ = std::min(drain_poll_ms_ * 2, kDrainPollMaxMs);
    return poll;
  }
  drain_poll_ms_ = 1;
  int64_t wait = kQuietCheckMs << quiet_checks_;
  if (moved_since_check_ > 0) {
    // Before the smaller headroom can run out at the rate since the last check, twice over.
    uint64_t headroom = kKernelBudget;
    for (const Direction* d : {&to_target_, &to_client_}) {
      if (d->mover == Mover::kKernel) headroom = std::min(headroom, d->budget - d->forwarded);
    }
    const auto elapsed = static_cast<uint64_t>(std::max<int64_t>(1, now - kernel_checked_ms_));
    const uint64_t due = headroom * elapsed / (2 * moved_since_check_);
    wait = static_cast<int64_t>(std::min<uint64_t>(due, kQuietCheckMs));
  }
  wait = std::max(wait, kBusyCheckMs);
  return std::min(wait, std::max<int64_t>(1, listener_->idle_timeout_ms - (now - activity_ms_)));
}

void TcpSession::on_kernel_notice() {
  if (phase_ == Phase::kRelaying && kernel_moves_bytes()) {
    check_kernel_relay(worker_.loop().now_ms());
  }
}

void TcpSession::leave_kernel_relay() {
  if (to_target_.source_cookie == 0) return;
  if (KernelNotices* notices = worker_.kernel_notices(); notices != nullptr) {
    notices->forget(to_target_.source_cookie);
    notices->forget(to_client_.source_cookie);
  }
  KernelRelay* relay = KernelRelay::shared();
  relay->leave(to_target_.source_cookie);
  relay->leave(to_client_.source_cookie);
}

}  // namespace ballast::proxy
