#pragma once
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/event_loop.h"

namespace ballast::scale {

struct SpawnOptions {
  std::string command;                                           // run by /bin/sh -c
  std::vector<std::pair<std::string, std::string>> environment;  // added to ballast's own
  std::string working_directory;                                 // empty: ballast's
  // stdout and stderr are appended to this file; empty: /dev/null (unless captured).
  std::string log_path;
  bool capture_output = false;  // keep stdout and stderr (up to 1 MiB each) for the caller
  std::string input;            // written to stdin, which is then closed
  // A ballast binary: the command runs under an instance guard from it, which stops the
  // process group (SIGTERM, SIGKILL after guard_stop_timeout_ms) if ballast dies first.
  std::string guard_binary;
  int64_t guard_stop_timeout_ms = 0;
};

// A child process in its own process group (so a signal reaches everything it started),
// watched through a pidfd on the event loop: no SIGCHLD handler, no blocking wait. It
// is spawned with the default signal mask and dispositions, not the control thread's.
// When it exits, what is left of its process group is killed.
class ChildProcess final : public core::IoHandler {
 public:
  // The waitpid() status once the process has exited.
  using ExitFn = std::function<void(int status)>;
  // nullptr with `error` set when the process cannot be started.
  static std::unique_ptr<ChildProcess> spawn(core::EventLoop& loop, const SpawnOptions& options,
                                             ExitFn on_exit, std::string* error);
  // A process still running is killed (SIGKILL to its group) and reaped.
  ~ChildProcess() override;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool exited() const { return exited_; }
  // Signals the whole process group.
  void signal_group(int sig) const;
  const std::string& output() const { return output_; }  // stdout, when captured
  const std::string& errors() const { return errors_; }  // stderr, when captured

  void on_io(uint32_t events) override;

 private:
  ChildProcess(core::EventLoop& loop, ExitFn on_exit) : loop_(loop), on_exit_(std::move(on_exit)) {}
  void drain_pipes();

  core::EventLoop& loop_;
  ExitFn on_exit_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int out_fd_ = -1;  // captured stdout (read end)
  int err_fd_ = -1;  // captured stderr (read end)
  bool exited_ = false;
  std::string output_;
  std::string errors_;
};

// "exited with status 3", "killed by SIGKILL": a waitpid() status in words.
std::string describe_exit(int status);

// Destroys `child` after the current batch of events (it may be named in it).
void retire(core::EventLoop& loop, std::unique_ptr<ChildProcess> child);

}  // namespace ballast::scale
