#include "proxy/worker.h"

#include "core/log.h"
#include "core/sockets.h"
#include "proxy/listener.h"
#include "proxy/session.h"

namespace ballast::proxy {

Worker::Worker(const config::Config& config, unsigned index,
               const std::vector<std::shared_ptr<health::HealthBoard>>& boards,
               const std::vector<std::shared_ptr<CircuitBreaker>>& breakers)
    : config_(config), index_(index), shutdown_timer_(&Worker::on_shutdown_deadline, this) {
  for (size_t g = 0; g < config.target_groups.size(); ++g) {
    const health::HealthBoard* board = g < boards.size() ? boards[g].get() : nullptr;
    CircuitBreaker* breaker = g < breakers.size() ? breakers[g].get() : nullptr;
    groups_.push_back(
        std::make_unique<TargetGroupRuntime>(loop_, config.target_groups[g], board, breaker));
  }
}

Worker::~Worker() {
  while (sessions_ != nullptr) sessions_->abort();
  acceptors_.clear();
  groups_.clear();
}

bool Worker::open_listeners(std::string* error) {
  for (const auto& l : config_.listeners) {
    int fd = core::listen_tcp(l.bind, /*reuse_port=*/true, /*backlog=*/4096, error);
    if (fd < 0) {
      *error = "listener \"" + l.name + "\": " + *error;
      return false;
    }
    acceptors_.push_back(std::make_unique<Acceptor>(*this, l, fd));
    loop_.add_level_triggered(fd, EPOLLIN, acceptors_.back().get());
  }
  return true;
}

void Worker::start() {
  thread_ = std::thread([this] { loop_.run(); });
}

void Worker::request_shutdown(int64_t deadline_ms) {
  loop_.post([this, deadline_ms] { begin_shutdown(deadline_ms); });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::accept_connection(const config::ListenerConfig& listener, int fd,
                               const core::SocketAddress& peer) {
  auto* session = new Session(*this, listener, fd, peer);
  session->next = sessions_;
  if (sessions_ != nullptr) sessions_->prev = session;
  sessions_ = session;
  ++session_count_;
  session->start();
}

void Worker::session_closed(Session* session) {
  if (session->prev != nullptr)
    session->prev->next = session->next;
  else
    sessions_ = session->next;
  if (session->next != nullptr) session->next->prev = session->prev;
  session->prev = session->next = nullptr;
  --session_count_;
  loop_.defer_delete([session] { delete session; });
  if (draining_) maybe_finish_shutdown();
}

void Worker::begin_shutdown(int64_t deadline_ms) {
  if (draining_) return;
  draining_ = true;
  for (auto& a : acceptors_) a->close_listener();
  for (auto& g : groups_) g->close_idle();
  // begin_drain may close the session and unlink it: walk with a saved next pointer.
  for (Session* s = sessions_; s != nullptr;) {
    Session* next = s->next;
    s->begin_drain();
    s = next;
  }
  loop_.timers().arm(shutdown_timer_, deadline_ms, loop_.now_ms());
  maybe_finish_shutdown();
}

void Worker::maybe_finish_shutdown() {
  if (session_count_ == 0) loop_.stop();
}

void Worker::on_shutdown_deadline(void* self) {
  auto* w = static_cast<Worker*>(self);
  if (w->session_count_ > 0) {
    LOG_WARN("worker %u: shutdown_timeout reached, closing %zu connection(s)", w->index_,
             w->session_count_);
  }
  while (w->sessions_ != nullptr) w->sessions_->abort();
  w->loop_.stop();
}

}  // namespace ballast::proxy
