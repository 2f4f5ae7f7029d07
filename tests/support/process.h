#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace ballast::test {

// A child process started from argv, its stdout and stderr sent to `log_path`.
// Killed (SIGKILL) when destroyed if still running, so a failing test leaves nothing.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::string& log_path);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Waits up to `timeout_ms` for exit; returns the exit status (or -1 on timeout,
  // 128+signal when killed by a signal).
  int wait_exit(int timeout_ms);
  bool running();
  std::string log() const;

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::string log_path_;
};

// Peak resident memory (VmHWM) of a process, in bytes.
long peak_rss_bytes(pid_t pid);
// ballast runs under a sanitizer (this program was built with ASan, or BALLAST_BINARY_OVERRIDE
// names a TSan build): its memory figures are then mostly the sanitizer's shadow memory.
bool ballast_is_instrumented();

}  // namespace ballast::test
