#include "control/track_guard.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ballast::control {

namespace {

// The child runs only async-signal-safe calls: the parent may have threads.
[[noreturn]] void guard(pid_t parent, const char* path, const char* tmp) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);  // the death signal is taken by sigwait
  prctl(PR_SET_PDEATHSIG, SIGUSR1);
  close_range(3, ~0U, 0);  // no listening socket or file of ballast's stays open here
  if (getppid() == parent) {
    sigset_t wanted;
    sigemptyset(&wanted);
    sigaddset(&wanted, SIGUSR1);
    sigaddset(&wanted, SIGTERM);
    int sig = 0;
    sigwait(&wanted, &sig);
    if (sig == SIGTERM) _exit(0);  // dismissed
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ssize_t ignored = write(fd, "1\n", 2);
    (void)ignored;
    close(fd);
    rename(tmp, path);
  }
  _exit(0);
}

}  // namespace

std::unique_ptr<TrackGuard> TrackGuard::start(const std::string& track_file, std::string* error) {
  std::string tmp = track_file + ".guard";
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + strerror(errno);
    return nullptr;
  }
  if (pid == 0) guard(parent, track_file.c_str(), tmp.c_str());
  return std::unique_ptr<TrackGuard>(new TrackGuard(pid));
}

TrackGuard::~TrackGuard() {
  kill(pid_, SIGTERM);
  waitpid(pid_, nullptr, 0);
}

}  // namespace ballast::control
