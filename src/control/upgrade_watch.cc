#include "control/upgrade_watch.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace ballast::control {

UpgradeWatch::UpgradeWatch(core::EventLoop& loop, int socket, pid_t child, int64_t timeout_ms,
                           std::function<void(const std::string&)> answered)
    : loop_(loop),
      socket_(socket),
      child_(child),
      timeout_ms_(timeout_ms),
      answered_(std::move(answered)) {
  loop_.add(socket_, this);
  loop_.timers().arm(timer_, timeout_ms_, loop_.now_ms());
}

UpgradeWatch::~UpgradeWatch() {
  loop_.remove(socket_);
  ::close(socket_);
}

void UpgradeWatch::on_io(uint32_t) {
  if (done_) return;
  char buf[4096];
  ssize_t n = ::recv(socket_, buf, sizeof(buf), 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  done_ = true;
  timer_.cancel();
  answered_(n > 0 ? std::string(buf, static_cast<size_t>(n))
                  : "failed: the new process exited before it could serve\n");
}

void UpgradeWatch::on_timeout(void* self) {
  auto* w = static_cast<UpgradeWatch*>(self);
  if (w->done_) return;
  w->done_ = true;
  w->answered_("failed: the new process did not report serving within " +
               std::to_string(w->timeout_ms_ / 1000) + "s\n");
}

}  // namespace ballast::control
