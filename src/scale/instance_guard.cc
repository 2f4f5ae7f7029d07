#include "scale/instance_guard.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

namespace ballast::scale {

namespace {

// The guard's own signal for "ballast is gone" (PR_SET_PDEATHSIG); any other would do.
constexpr int kParentGone = SIGUSR2;

// The signals of `set` waiting for the guard, taken.
std::vector<int> take_pending(const sigset_t& set) {
  std::vector<int> taken;
  timespec now{0, 0};
  for (int i = 0; i < 64; ++i) {
    int sig = sigtimedwait(&set, nullptr, &now);
    if (sig < 0) break;
    taken.push_back(sig);
  }
  return taken;
}

// Runs the command as the guard's child, with no signal blocked; its pid, or -1.
pid_t start_child(char** argv) {
  pid_t child = fork();
  if (child < 0) {
    std::perror("instance guard: fork");
    return -1;
  }
  if (child == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    prctl(PR_SET_PDEATHSIG, 0);
    execv(argv[0], argv);
    std::perror("instance guard: exec");
    _exit(127);
  }
  return child;
}

// Ends the guard the way its child ended, so ballast reads the child's own status.
[[noreturn]] void end_like(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);  // the child dumped its own core, if any
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    raise(sig);
    _exit(128 + sig);
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

// Reaps the child when it has ended; true and its status then.
bool child_ended(pid_t child, int* status) {
  pid_t r = waitpid(child, status, WNOHANG);
  if (r == child) return true;
  if (r < 0 && errno == ECHILD) {
    *status = 0;
    return true;
  }
  return false;
}

// ballast is gone: stop the whole group as ballast would have, then end.
[[noreturn]] void stop_group(pid_t child, int64_t stop_timeout_ms, const sigset_t& waited) {
  kill(-getpgrp(), SIGTERM);  // the guard blocks it; the group's other members get it
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  int status = 0;
  for (;;) {
    if (child_ended(child, &status)) break;
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t elapsed_ms =
        (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (elapsed_ms >= stop_timeout_ms) break;
    int64_t left_ms = stop_timeout_ms - elapsed_ms;
    timespec wait{left_ms / 1000, (left_ms % 1000) * 1000000};
    sigtimedwait(&waited, nullptr, &wait);
  }
  kill(-getpgrp(), SIGKILL);  // whatever is left, the guard included
  _exit(1);
}

}  // namespace

std::vector<std::string> guarded_command(const std::string& ballast_path, int64_t stop_timeout_ms,
                                         const std::string& command) {
  return {ballast_path,
          kInstanceGuardCommand,
          std::to_string(getpid()),
          std::to_string(stop_timeout_ms),
          "/bin/sh",
          "-c",
          command};
}

sigset_t instance_guard_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, kParentGone}) {
    sigaddset(&set, sig);
  }
  return set;
}

int run_instance_guard(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: ballast %s PARENT_PID STOP_TIMEOUT_MS PROGRAM [ARGS...]\n",
                 kInstanceGuardCommand);
    return 2;
  }
  pid_t parent = static_cast<pid_t>(std::atol(argv[0]));
  int64_t stop_timeout_ms = std::atoll(argv[1]);
  // It stops its group when ballast dies: a group of its own, whoever started it.
  setpgid(0, 0);
  sigset_t waited = instance_guard_signals();
  sigprocmask(SIG_BLOCK, &waited, nullptr);  // ballast spawns it so; anyone else may not
  prctl(PR_SET_PDEATHSIG, kParentGone);
  // A signal that came before the command existed (a stop right after the launch) is the
  // command's: it is passed on once the command runs. (One sent to the group in the instant
  // between this and the fork reaches neither; ballast's SIGKILL after stop_timeout still
  // ends the instance.)
  std::vector<int> early = take_pending(waited);
  pid_t child = start_child(argv + 2);
  if (child < 0) return 1;
  for (int sig : early) {
    if (sig == kParentGone || sig == SIGCHLD) continue;
    kill(child, sig);
  }
  // ballast may have died before the request to be told took effect.
  if (getppid() != parent) stop_group(child, stop_timeout_ms, waited);
  for (;;) {
    siginfo_t info{};
    int sig = sigwaitinfo(&waited, &info);
    if (sig < 0) continue;  // EINTR
    int status = 0;
    if (sig == SIGCHLD) {
      if (child_ended(child, &status)) end_like(status);
    } else if (sig == kParentGone && getppid() != parent) {
      stop_group(child, stop_timeout_ms, waited);
    } else if (info.si_pid != parent) {
      // Sent to the guard alone (ballast signals the whole group, the command included).
      kill(child, sig);
    }
  }
}

}  // namespace ballast::scale
