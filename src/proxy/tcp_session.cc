#include "proxy/tcp_session.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/log.h"
#include "core/sockets.h"
#include "kernel_relay/kernel_relay.h"
#include "lb/hash.h"
#include "proxy/proxy_protocol.h"
#include "proxy/target_group_runtime.h"
#include "proxy/worker.h"

namespace ballast::proxy {

namespace {
// One splice moves at most a pipe's default capacity.
constexpr size_t kChunk = 65536;
// A copy's stack buffer: larger than the messages that the copy path is for.
constexpr size_t kCopyChunk = 16384;
constexpr unsigned kSpliceFlags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;

void close_pipe(int& r, int& w) {
  if (r >= 0) ::close(r);
  if (w >= 0) ::close(w);
  r = w = -1;
}
}  // namespace

TcpSession::TcpSession(Worker& worker, std::shared_ptr<const ConfigSnapshot> snapshot,
                       const config::ListenerConfig& listener,
                       std::shared_ptr<metrics::ListenerStats> stats, int fd,
                       const core::SocketAddress& peer, ConnectionLimiter::Admission admission)
    : worker_(worker),
      snapshot_(std::move(snapshot)),
      listener_(&listener),
      stats_(std::move(stats)),
      fd_(fd),
      peer_(peer),
      client_(peer),
      admission_(std::move(admission)),
      timer_(&TcpSession::on_timer, this) {
  stats_->connections.add();
  stats_->active_connections.add(1);
}

TcpSession::~TcpSession() {
  if (fd_ >= 0) ::close(fd_);
  close_pipe(to_target_.pipe_read, to_target_.pipe_write);
  close_pipe(to_client_.pipe_read, to_client_.pipe_write);
}

void TcpSession::start() {
  worker_.loop().add(fd_, this);
  if (sends_proxy_header(*listener_, peer_)) {
    phase_ = Phase::kProxyHeader;
    worker_.loop().timers().arm(timer_, listener_->header_timeout_ms, worker_.loop().now_ms());
    drive();
    return;
  }
  connect_target();
}

void TcpSession::on_io(uint32_t events) {
  if (phase_ == Phase::kClosed) return;
  to_target_.on_source_events(events);
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) client_writable_ = true;
  drive();
}

void TcpSession::on_upstream_io(uint32_t events) {
  if (phase_ == Phase::kClosed || !upstream_) return;
  if (!upstream_->connected) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    if (int err = core::socket_error(upstream_->fd()); err != 0) {
      connect_failed(strerror(err));
      return;
    }
    on_connected();
  }
  to_client_.on_source_events(events);
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) upstream_writable_ = true;
  drive();
}

void TcpSession::drive() {
  if (phase_ == Phase::kProxyHeader) {
    if (!read_proxy_header()) return;
  }
  if (phase_ != Phase::kRelaying) return;
  // Bounded like an HTTP session's passes: a fast pair of peers yields to the others.
  for (int pass = 0; pass < 64 && phase_ == Phase::kRelaying; ++pass) {
    bool progress = pump(to_target_, fd_, upstream_->fd(), upstream_writable_, stats_->bytes_in);
    if (phase_ != Phase::kRelaying) return;
    progress |= pump(to_client_, upstream_->fd(), fd_, client_writable_, stats_->bytes_out);
    if (phase_ != Phase::kRelaying) return;
    if (to_target_.shut && to_client_.shut) {
      close();  // both sides are done
      return;
    }
    if (!progress) return;
    activity_ms_ = worker_.loop().now_ms();
  }
  worker_.loop().resume_soon(this);  // more to move: after the other connections' turn
}

bool TcpSession::pump(Direction& d, int from, int to, bool& to_writable,
                      metrics::Counter& counted) {
  bool progress = false;
  while (!d.prefix.empty() && to_writable) {
    ssize_t n = ::send(to, d.prefix.data(), d.prefix.size(), MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      to_writable = false;
      return progress;
    }
    if (n <= 0) {
      close();
      return true;
    }
    d.prefix.erase(0, static_cast<size_t>(n));
    progress = true;
  }
  if (!d.prefix.empty()) return progress;
  if (d.mover != Mover::kUserSpace) {
    progress |= pump_kernel(d, from, to, to_writable);
    if (d.mover != Mover::kUserSpace || phase_ != Phase::kRelaying) return progress;
  }
  if (d.source_readable && !d.source_ended) {
    if (d.path == Path::kCopy && d.in_pipe == 0 && to_writable) {
      progress |= copy_through(d, from, to, to_writable, counted);
    } else if (d.in_pipe < kChunk && !d.source_in_kernel) {
      progress |= splice_in(d, from, counted);
    }
    if (phase_ != Phase::kRelaying) return true;
  }
  if (d.in_pipe > 0 && to_writable) {
    progress |= splice_out(d, to, to_writable);
    if (phase_ != Phase::kRelaying) return true;
  }
  if (d.source_ended && d.in_pipe == 0 && !d.shut) {
    // The source is done and everything it sent went on: say so with a half-close.
    ::shutdown(to, SHUT_WR);
    d.shut = true;
    progress = true;
  }
  return progress;
}

bool TcpSession::copy_through(Direction& d, int from, int to, bool& to_writable,
                              metrics::Counter& counted) {
  char buf[kCopyChunk];
  const size_t want = std::min(sizeof(buf), d.copy_limit);
  ssize_t n = ::recv(from, buf, want, 0);
  if (n < 0) {
    if (errno == EAGAIN) {
      d.source_readable = false;
    } else if (errno != EINTR) {
      close();  // reset by the peer
      return true;
    }
    return false;
  }
  if (n == 0) {
    d.source_ended = true;
    return true;
  }
  const auto got = static_cast<size_t>(n);
  counted.add(got);
  if (d.source_in_kernel) {
    // What the kernel relay left comes in queued messages: read on until EAGAIN.
  } else if (got == want) {
    d.path = Path::kSplice;  // a full read: a bulk flow, spliced until the socket is empty
  } else if (!d.source_closing) {
    d.source_readable = false;  // a short read emptied the socket
  }
  ssize_t s = ::send(to, buf, got, MSG_NOSIGNAL);
  if (s < 0 && errno == EAGAIN) {
    to_writable = false;
  } else if (s < 0 && errno != EINTR) {
    close();
    return true;
  }
  const size_t sent = s > 0 ? static_cast<size_t>(s) : 0;
  if (sent < got) {
    // The rest waits in the pipe for splice_out. The pipe is empty here and its capacity
    // is at least copy_limit, so it takes all of it; a shortfall would lose bytes.
    ssize_t kept = ::write(d.pipe_write, buf + sent, got - sent);
    if (kept != static_cast<ssize_t>(got - sent)) {
      LOG_ERROR("%s %s: the relay's pipe took %zd of %zu bytes; closed",
                client_.ip_string().c_str(), listener_->name.c_str(), kept, got - sent);
      close();
      return true;
    }
    d.in_pipe += got - sent;
  }
  return true;
}

bool TcpSession::splice_in(Direction& d, int from, metrics::Counter& counted) {
  ssize_t n = ::splice(from, nullptr, d.pipe_write, nullptr, kChunk - d.in_pipe, kSpliceFlags);
  if (n > 0) {
    d.in_pipe += static_cast<size_t>(n);
    counted.add(static_cast<uint64_t>(n));
    return true;
  }
  if (n == 0) {
    d.source_ended = true;
    return true;
  }
  if (errno == EAGAIN) {
    // The socket is empty (then the flow is back to messages, copied), or the pipe ran out
    // of slots before its bytes did (small segments): then the bytes in it go out first and
    // reading resumes after.
    if (d.in_pipe == 0) {
      d.source_readable = false;
      d.path = Path::kCopy;
    }
    return false;
  }
  if (errno != EINTR) {
    close();  // reset by the peer
    return true;
  }
  return false;
}

bool TcpSession::splice_out(Direction& d, int to, bool& to_writable) {
  ssize_t n = ::splice(d.pipe_read, nullptr, to, nullptr, d.in_pipe, kSpliceFlags);
  if (n > 0) {
    d.in_pipe -= static_cast<size_t>(n);
    return true;
  }
  if (n < 0 && errno == EAGAIN) {
    to_writable = false;
  } else if (n < 0 && errno != EINTR) {
    close();
    return true;
  }
  return false;
}

bool TcpSession::read_proxy_header() {
  char buf[4096];
  ssize_t n = ::recv(fd_, buf, sizeof(buf), MSG_PEEK);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return false;
  if (n <= 0) {
    close();
    return false;
  }
  ProxyHeader h = parse_proxy_header(std::string_view(buf, static_cast<size_t>(n)));
  if (h.status == ProxyHeader::Status::kNeedMore) {
    if (static_cast<size_t>(n) == sizeof(buf))
      h = {ProxyHeader::Status::kInvalid, 0, {}, {}, "PROXY header too long"};
    else
      return false;
  }
  if (h.status == ProxyHeader::Status::kInvalid) {
    LOG_INFO("%s %s: %s; closed", peer_.ip_string().c_str(), listener_->name.c_str(),
             h.error.c_str());
    close();
    return false;
  }
  ssize_t consumed = ::recv(fd_, buf, h.length, 0);  // the header only: the rest is relayed
  if (consumed != static_cast<ssize_t>(h.length)) {
    close();
    return false;
  }
  if (h.source) client_ = *h.source;
  timer_.cancel();
  connect_target();
  return phase_ == Phase::kRelaying;
}

void TcpSession::connect_target() {
  phase_ = Phase::kConnecting;
  const config::RuleConfig& rule = listener_->rules[0];
  size_t group = rule.forward[0].target_group_index;
  if (rule.forward.size() > 1) {
    uint64_t total = 0;
    for (const auto& f : rule.forward) total += f.weight;
    uint64_t x = total == 0 ? 0 : worker_.random().below(total);
    for (const auto& f : rule.forward) {
      if (x < f.weight) {
        group = f.target_group_index;
        break;
      }
      x -= f.weight;
    }
  }
  group_ = &snapshot_->group(group);
  if (CircuitBreaker* breaker = group_->breaker(); breaker != nullptr) {
    if (!breaker->try_acquire(CircuitBreaker::Kind::kRequests)) {
      group_->stats().breaker_rejections[static_cast<int>(CircuitBreaker::Kind::kRequests)].add();
      LOG_WARN("%s %s: target group \"%s\" is at max_requests; connection closed",
               client_.ip_string().c_str(), listener_->name.c_str(), group_->name().c_str());
      close();
      return;
    }
    breaker_ = group_->shared_breaker();
    holds_request_slot_ = true;
  }
  group_->stats().requests.add();
  pick_target();
}

void TcpSession::pick_target() {
  phase_ = Phase::kConnecting;
  tries_ = 0;
  lb::PickContext pick;
  if (group_->uses_hash()) pick.hash = lb::hash_bytes(client_.ip_string());
  int target = group_->pick(pick);
  if (target >= 0) {
    try_target(target);
    return;
  }
  if (group_->holds_connections()) {  // (pick() counted the miss in no_target)
    hold("no target is available");
    return;
  }
  LOG_WARN("%s %s: target group \"%s\" has no healthy target; connection closed",
           client_.ip_string().c_str(), listener_->name.c_str(), group_->name().c_str());
  close();
}

void TcpSession::hold(const std::string& why) {
  const int64_t now = worker_.loop().now_ms();
  if (hold_started_ms_ < 0) hold_started_ms_ = now;
  const int64_t hold_ms = group_->config().hold_ms;
  const int64_t left = hold_started_ms_ + hold_ms - now;
  if (left <= 0) {
    LOG_WARN("%s %s: %s, and none came within %lldms (hold); connection closed",
             client_.ip_string().c_str(), listener_->name.c_str(), why.c_str(),
             static_cast<long long>(hold_ms));
    close();
    return;
  }
  phase_ = Phase::kHolding;
  worker_.loop().timers().arm(timer_, left, now);
}

void TcpSession::abandon_connect() {
  auto t = static_cast<size_t>(target_);
  group_->request_finished(t);
  target_ = -1;
  if (upstream_) upstream_->pool()->discard(std::move(upstream_));
  timer_.cancel();
}

void TcpSession::on_membership(TargetGroupRuntime& group, std::span<const size_t> fenced) {
  if (&group != group_) return;
  if (phase_ == Phase::kHolding) {
    if (group.has_usable_target()) {
      timer_.cancel();
      pick_target();
    }
    return;
  }
  if (target_ < 0 ||
      std::find(fenced.begin(), fenced.end(), static_cast<size_t>(target_)) == fenced.end()) {
    return;
  }
  if (phase_ == Phase::kConnecting) {
    // Nothing was sent yet: the connection goes to whoever serves now.
    abandon_connect();
    pick_target();
    return;
  }
  LOG_INFO("%s %s: target %s was fenced (%s); connection closed", client_.ip_string().c_str(),
           listener_->name.c_str(), group.target_text(static_cast<size_t>(target_)).c_str(),
           "no longer what the endpoint serves");
  close();
}

bool TcpSession::try_target(int target) {
  target_ = target;
  tried_[tries_++] = target;
  group_->request_started(static_cast<size_t>(target));
  upstream_ = group_->pool(static_cast<size_t>(target)).connect_new(/*http1_only=*/true);
  if (!upstream_) {
    connect_failed(strerror(errno));
    return false;
  }
  upstream_->owner = this;
  worker_.loop().timers().arm(timer_, group_->config().connect_timeout_ms, worker_.loop().now_ms());
  return true;
}

void TcpSession::connect_failed(const std::string& why) {
  auto t = static_cast<size_t>(target_);
  LOG_WARN("%s %s: could not connect to target %s (%s)", client_.ip_string().c_str(),
           listener_->name.c_str(), group_->target_text(t).c_str(), why.c_str());
  group_->record_outcome(t, true);
  group_->target_stats(t).failures.add();
  group_->request_finished(t);
  target_ = -1;
  if (upstream_) upstream_->pool()->discard(std::move(upstream_));
  timer_.cancel();
  // Nothing was sent yet: another target may take the connection, as retries allow.
  if (tries_ < static_cast<int>(std::size(tried_)) &&
      tries_ <= static_cast<int>(group_->config().retries)) {
    lb::PickContext pick;
    if (group_->uses_hash()) pick.hash = lb::hash_bytes(client_.ip_string());
    int other =
        group_->pick_excluding(pick, std::span<const int>(tried_, static_cast<size_t>(tries_)));
    if (other >= 0) {
      group_->stats().retries.add();
      try_target(other);
      return;
    }
  }
  if (group_->holds_connections()) {
    hold("the target refused or did not answer");
    return;
  }
  close();
}

void TcpSession::on_connected() {
  upstream_->connected = true;
  timer_.cancel();
  int fds[2][2];
  if (::pipe2(fds[0], O_NONBLOCK | O_CLOEXEC) != 0 ||
      ::pipe2(fds[1], O_NONBLOCK | O_CLOEXEC) != 0) {
    LOG_WARN("%s %s: no pipe for the relay (%s); closed", client_.ip_string().c_str(),
             listener_->name.c_str(), strerror(errno));
    close();
    return;
  }
  to_target_.pipe_read = fds[0][0];
  to_target_.pipe_write = fds[0][1];
  to_client_.pipe_read = fds[1][0];
  to_client_.pipe_write = fds[1][1];
  for (Direction* d : {&to_target_, &to_client_}) {
    // A pipe is smaller than its default 64 KiB when its user has too many (the kernel's
    // pipe-user-pages-soft): copies stay within what it can hold.
    int capacity = ::fcntl(d->pipe_write, F_GETPIPE_SZ);
    d->copy_limit = std::min(kCopyChunk, capacity > 0 ? static_cast<size_t>(capacity) : 4096);
  }
  upstream_writable_ = true;
  to_client_.source_readable = true;
  if (listener_->send_proxy_protocol != config::ListenerConfig::ProxyProtocol::kNone) {
    // The destination the client connected to: this listener's address as the socket has it.
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    core::SocketAddress local =
        core::SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    to_target_.prefix = listener_->send_proxy_protocol == config::ListenerConfig::ProxyProtocol::kV1
                            ? proxy_header_v1(client_, local)
                            : proxy_header_v2(client_, local);
  }
  phase_ = Phase::kRelaying;
  activity_ms_ = worker_.loop().now_ms();
  if (listener_->relay == config::ListenerConfig::Relay::kKernel) join_kernel_relay();
  worker_.loop().timers().arm(
      timer_,
      kernel_moves_bytes() ? next_kernel_check_ms(activity_ms_) : listener_->idle_timeout_ms,
      activity_ms_);
}

void TcpSession::on_timer(void* self) {
  auto* s = static_cast<TcpSession*>(self);
  const int64_t now = s->worker_.loop().now_ms();
  switch (s->phase_) {
    case Phase::kProxyHeader:
      LOG_INFO("%s %s: no PROXY header within %lldms; closed", s->peer_.ip_string().c_str(),
               s->listener_->name.c_str(), static_cast<long long>(s->listener_->header_timeout_ms));
      s->close();
      break;
    case Phase::kHolding:
      s->hold("no target is available");
      break;
    case Phase::kConnecting:
      s->connect_failed("no answer within " +
                        std::to_string(s->group_->config().connect_timeout_ms) + "ms");
      break;
    case Phase::kRelaying:
      if (s->kernel_moves_bytes()) {
        s->check_kernel_relay(now);
      } else if (now - s->activity_ms_ >= s->listener_->idle_timeout_ms) {
        LOG_INFO("%s %s: idle for %lldms; closed", s->client_.ip_string().c_str(),
                 s->listener_->name.c_str(), static_cast<long long>(now - s->activity_ms_));
        s->close();
      } else {
        s->worker_.loop().timers().arm(
            s->timer_, s->listener_->idle_timeout_ms - (now - s->activity_ms_), now);
      }
      break;
    case Phase::kClosed:
      break;
  }
}

void TcpSession::close() {
  if (phase_ == Phase::kClosed) return;
  if (kernel_moves_bytes()) {
    // The last bytes the kernel relay forwarded count too.
    for (Direction* d : {&to_target_, &to_client_}) {
      kernel_relay::KernelRelay::Tally tally;
      if (d->mover != Mover::kUserSpace &&
          kernel_relay::KernelRelay::shared()->tally(d->source_cookie, &tally)) {
        count_forwarded(*d, tally.forwarded);
      }
    }
  }
  phase_ = Phase::kClosed;
  stats_->active_connections.add(-1);
  timer_.cancel();
  if (upstream_) upstream_->pool()->discard(std::move(upstream_));
  if (group_ != nullptr && target_ >= 0) {
    group_->record_outcome(static_cast<size_t>(target_), false);
    group_->request_finished(static_cast<size_t>(target_));
  }
  target_ = -1;
  if (holds_request_slot_) breaker_->release(CircuitBreaker::Kind::kRequests);
  holds_request_slot_ = false;
  admission_.reset();
  worker_.loop().remove(fd_);
  ::close(fd_);
  fd_ = -1;
  leave_kernel_relay();  // (closing its sockets took them out of the relay's map)
  worker_.session_closed(this);
}

}  // namespace ballast::proxy
