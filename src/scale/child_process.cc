#include "scale/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "scale/instance_guard.h"

extern char** environ;

namespace ballast::scale {

namespace {

constexpr size_t kMaxCaptured = 1 << 20;

int pidfd_open(pid_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

// ballast's environment with the options' variables added or replaced.
std::vector<std::string> environment_for(const SpawnOptions& o) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    size_t eq = entry.find('=');
    if (eq != std::string::npos) vars[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : o.environment) vars[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

// Pipes for capture: large (so a chatty child does not block before it exits) and
// non-blocking on our side.
bool make_pipe(int fds[2], std::string* error) {
  if (pipe2(fds, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + strerror(errno);
    return false;
  }
  fcntl(fds[0], F_SETPIPE_SZ, static_cast<int>(kMaxCaptured));
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  return true;
}

void read_available(int fd, std::string* into) {
  char buf[16384];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) {
      if (into->size() < kMaxCaptured) into->append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return;
  }
}

class SpawnAttributes {
 public:
  SpawnAttributes() {
    posix_spawnattr_init(&attr_);
    posix_spawn_file_actions_init(&actions_);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD, SIGQUIT}) {
      sigaddset(&defaults, sig);
    }
    posix_spawnattr_setsigmask(&attr_, &none);
    posix_spawnattr_setsigdefault(&attr_, &defaults);
    posix_spawnattr_setpgroup(&attr_, 0);
    posix_spawnattr_setflags(
        &attr_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  ~SpawnAttributes() {
    posix_spawnattr_destroy(&attr_);
    posix_spawn_file_actions_destroy(&actions_);
  }
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

}  // namespace

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return std::string("killed by SIG") +
           (name != nullptr ? name : std::to_string(WTERMSIG(status)).c_str());
  }
  return "ended (status " + std::to_string(status) + ")";
}

std::unique_ptr<ChildProcess> ChildProcess::spawn(core::EventLoop& loop,
                                                  const SpawnOptions& options, ExitFn on_exit,
                                                  std::string* error) {
  std::unique_ptr<ChildProcess> child(new ChildProcess(loop, std::move(on_exit)));
  SpawnAttributes sa;
  if (!options.guard_binary.empty()) {
    sigset_t guard_mask = instance_guard_signals();
    posix_spawnattr_setsigmask(&sa.attr_, &guard_mask);
  }
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  auto close_all = [&] {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) {
      if (fd >= 0) ::close(fd);
    }
  };
  if (!options.input.empty()) {
    if (pipe2(in, O_CLOEXEC) != 0) {
      *error = std::string("pipe: ") + strerror(errno);
      return nullptr;
    }
    fcntl(in[1], F_SETPIPE_SZ, static_cast<int>(kMaxCaptured));
    posix_spawn_file_actions_adddup2(&sa.actions_, in[0], 0);
  } else {
    posix_spawn_file_actions_addopen(&sa.actions_, 0, "/dev/null", O_RDONLY, 0);
  }
  if (options.capture_output) {
    if (!make_pipe(out, error) || !make_pipe(err, error)) {
      close_all();
      return nullptr;
    }
    posix_spawn_file_actions_adddup2(&sa.actions_, out[1], 1);
    posix_spawn_file_actions_adddup2(&sa.actions_, err[1], 2);
  } else {
    const char* path = options.log_path.empty() ? "/dev/null" : options.log_path.c_str();
    posix_spawn_file_actions_addopen(&sa.actions_, 1, path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&sa.actions_, 1, 2);
  }
  if (!options.working_directory.empty()) {
    posix_spawn_file_actions_addchdir_np(&sa.actions_, options.working_directory.c_str());
  }
  std::vector<std::string> env = environment_for(options);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args =
      options.guard_binary.empty()
          ? std::vector<std::string>{"/bin/sh", "-c", options.command}
          : guarded_command(options.guard_binary, options.guard_stop_timeout_ms, options.command);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int rc =
      posix_spawn(&child->pid_, args[0].c_str(), &sa.actions_, &sa.attr_, argv.data(), envp.data());
  for (int* fd : {&in[0], &out[1], &err[1]}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  if (rc != 0) {
    *error = "cannot start " + args[0] + ": " + std::string(strerror(rc));
    close_all();
    return nullptr;
  }
  if (in[1] >= 0) {
    // Small requests fit the enlarged pipe; what does not is cut (the child sees EOF).
    ssize_t n = ::write(in[1], options.input.data(), options.input.size());
    (void)n;
    ::close(in[1]);
    in[1] = -1;
  }
  child->out_fd_ = out[0];
  child->err_fd_ = err[0];
  child->pidfd_ = pidfd_open(child->pid_);
  if (child->pidfd_ < 0) {
    *error = std::string("pidfd_open: ") + strerror(errno);
    return child;  // the destructor kills and reaps it
  }
  loop.add_level_triggered(child->pidfd_, EPOLLIN, child.get());
  return child;
}

ChildProcess::~ChildProcess() {
  if (pidfd_ >= 0) {
    loop_.remove(pidfd_);
    ::close(pidfd_);
  }
  if (!exited_ && pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  for (int fd : {out_fd_, err_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

void ChildProcess::signal_group(int sig) const {
  if (!exited_ && pid_ > 0) ::kill(-pid_, sig);
}

void ChildProcess::drain_pipes() {
  if (out_fd_ >= 0) read_available(out_fd_, &output_);
  if (err_fd_ >= 0) read_available(err_fd_, &errors_);
}

void ChildProcess::on_io(uint32_t) {
  if (exited_) return;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0 || (r < 0 && errno == EINTR)) return;
  exited_ = true;
  // The group ends with its leader: whatever it started and left behind (a shell's
  // child, a daemon) would otherwise hold the instance's port forever.
  ::kill(-pid_, SIGKILL);
  loop_.remove(pidfd_);
  ::close(pidfd_);
  pidfd_ = -1;
  drain_pipes();
  if (on_exit_) {
    ExitFn fn = std::move(on_exit_);
    fn(r < 0 ? 0 : status);  // may destroy this object through retire(); nothing after
  }
}

void retire(core::EventLoop& loop, std::unique_ptr<ChildProcess> child) {
  ChildProcess* raw = child.release();
  if (raw != nullptr) loop.defer_delete([raw] { delete raw; });
}

}  // namespace ballast::scale
