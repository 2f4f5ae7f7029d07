#include "control/track_guard.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/atomic_file.h"

namespace ballast::control {

std::unique_ptr<TrackGuard> TrackGuard::start(const std::string& track_file, std::string* error) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) {
    *error = std::string("track file guard: /proc/self/exe: ") + strerror(errno);
    return nullptr;
  }
  self[n] = '\0';
  std::string parent = std::to_string(getpid());
  // Everything the child needs is made before fork(): the parent may have threads, so the
  // child makes only async-signal-safe calls until it runs the guard's own program.
  const char* argv[] = {self, kTrackGuardCommand, track_file.c_str(), parent.c_str(), nullptr};
  pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + strerror(errno);
    return nullptr;
  }
  if (pid == 0) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);  // kept across exec: the guard takes them by sigwait
    prctl(PR_SET_PDEATHSIG, SIGUSR1);         // kept across exec too
    close_range(3, ~0U, 0);  // no listening socket or file of ballast's stays open here
    execv(self, const_cast<char* const*>(argv));
    _exit(127);
  }
  return std::unique_ptr<TrackGuard>(new TrackGuard(pid));
}

TrackGuard::~TrackGuard() {
  kill(pid_, SIGTERM);
  waitpid(pid_, nullptr, 0);
}

int run_track_guard(int argc, char** argv) {
  if (argc != 2) return 2;
  const char* path = argv[0];
  pid_t parent = static_cast<pid_t>(std::strtol(argv[1], nullptr, 10));
  // Its own program, so that its command line is not ballast's: `pkill -f "ballast run"`
  // does not take the guard with it.
  if (getppid() == parent) {
    sigset_t wanted;
    sigemptyset(&wanted);
    sigaddset(&wanted, SIGUSR1);
    sigaddset(&wanted, SIGTERM);
    int sig = 0;
    sigwait(&wanted, &sig);
    if (sig == SIGTERM) return 0;  // dismissed
  }
  std::string error;
  core::write_file_atomically(path, "1\n", 0644, &error);
  return 0;
}

}  // namespace ballast::control
