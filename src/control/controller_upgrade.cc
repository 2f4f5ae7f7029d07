// Zero-downtime binary upgrades: the running process starts the binary at its own path,
// hands it its listening sockets, admin socket and TLS ticket keys over a Unix socket, and
// once the new process says it serves, stops accepting, drains (bounded by
// shutdown_timeout) and exits. Both processes accept on the same sockets meanwhile, so no
// connection is refused and none waiting in a queue is lost.
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "control/controller.h"
#include "core/clock.h"
#include "core/log.h"

extern char** environ;

namespace ballast::control {

namespace {
// The new process reads its configuration and starts its workers within this, or the
// upgrade is called off (and the new process stopped).
constexpr int64_t kTakeoverTimeoutMs = 60000;
// Where the new process finds the socket to the old one.
constexpr int kTakeoverFd = 3;
}  // namespace

void Controller::note_listening_sockets(
    const std::vector<std::pair<core::SocketAddress, int>>& sockets) {
  for (const auto& [address, fd] : sockets) listening_[address.to_string()].push_back(fd);
}

Handover Controller::collect_handover() const {
  Handover h;
  h.old_pid = ::getpid();
  h.listeners = listening_;
  if (admin_) {
    h.admin_fd = admin_->listening_fd();
    h.admin_address = admin_->address().to_string();
  }
  h.ticket_keys = ticket_keys_->export_keys();
  return h;
}

bool Controller::begin_upgrade(const char* trigger, std::string* error) {
  if (handed_over_) {
    *error = "this process has handed over already and is draining";
    return false;
  }
  if (upgrade_) {
    *error =
        "an upgrade is in progress (new process pid " + std::to_string(upgrade_->child()) + ")";
    return false;
  }
  if (executable_.empty() || ::access(executable_.c_str(), X_OK) != 0) {
    *error = "cannot run \"" + executable_ + "\" (" + strerror(errno) + ")";
    return false;
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    *error = std::string("socketpair: ") + strerror(errno);
    return false;
  }
  // posix_spawn rather than fork: this process has threads. The child's end becomes its
  // descriptor 3 (dup2 clears close-on-exec); everything else ballast opened is
  // close-on-exec and stays behind.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, sv[1], kTakeoverFd);
  std::string fd_text = std::to_string(kTakeoverFd);
  std::vector<std::string> args{executable_, "run", "-c", config_path_, "--takeover-fd", fd_text};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, executable_.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(sv[1]);
  if (rc != 0) {
    ::close(sv[0]);
    *error = "cannot start " + executable_ + ": " + strerror(rc);
    return false;
  }
  if (!send_handover(sv[0], collect_handover(), error)) {
    ::kill(pid, SIGTERM);
    ::close(sv[0]);
    return false;
  }
  upgrade_ = std::make_unique<UpgradeWatch>(
      loop_, sv[0], pid, kTakeoverTimeoutMs,
      [this](const std::string& answer) { upgrade_answered(answer); });
  upgrade_status_ = UpgradeStatus{core::unix_seconds(), true, "in progress", pid};
  LOG_INFO("upgrade (%s): started %s as pid %d; handed over %zu listening address(es)", trigger,
           executable_.c_str(), pid, listening_.size());
  return true;
}

void Controller::upgrade_answered(const std::string& answer) {
  if (!upgrade_) return;
  pid_t child = upgrade_->child();
  UpgradeWatch* done = upgrade_.release();
  loop_.defer_delete([done] { delete done; });
  if (answer == kReadyAnswer) {
    upgrade_status_ = UpgradeStatus{core::unix_seconds(), true, "serving", child};
    LOG_INFO(
        "upgrade: pid %d serves; this process stops accepting, drains (up to %lldms) and "
        "exits",
        child, static_cast<long long>(config_->shutdown_timeout_ms));
    handed_over_ = true;
    track_guard_.reset();  // the new process's guard watches now; this exit says nothing
    loop_.stop();
    return;
  }
  std::string why = answer;
  while (!why.empty() && why.back() == '\n') why.pop_back();
  if (why.rfind("failed: ", 0) == 0) why = why.substr(8);
  upgrade_status_ = UpgradeStatus{core::unix_seconds(), false, why, child};
  LOG_ERROR("upgrade: the new process (pid %d) could not take over: %s; this one keeps serving",
            child, why.c_str());
  ::kill(child, SIGTERM);
  ::waitpid(child, nullptr, WNOHANG);
}

void Controller::answer_takeover(const std::string& answer) {
  if (takeover_socket_ < 0) return;
  ssize_t ignored = ::send(takeover_socket_, answer.data(), answer.size(), MSG_NOSIGNAL);
  (void)ignored;
  ::close(takeover_socket_);
  takeover_socket_ = -1;
}

}  // namespace ballast::control
