#pragma once
#include <sys/types.h>

#include <memory>
#include <string>

namespace ballast::control {

// A small child process that writes 1 to keepalived's track file the moment ballast dies,
// however it dies (kill -9 included): the kernel signals it as its parent goes
// (PR_SET_PDEATHSIG), and keepalived, which watches the file, gives up the node's virtual
// IPs at once instead of waiting for a check script to fail. (keepalived's own
// track_process cannot see processes from inside a network namespace.)
class TrackGuard {
 public:
  // Forked before any listener is open; nullptr with `error` when it cannot start.
  static std::unique_ptr<TrackGuard> start(const std::string& track_file, std::string* error);
  // Stops the guard without writing (a clean stop has written the file itself; after a
  // handover the new process's guard takes over).
  ~TrackGuard();
  TrackGuard(const TrackGuard&) = delete;
  TrackGuard& operator=(const TrackGuard&) = delete;

  pid_t pid() const { return pid_; }

 private:
  explicit TrackGuard(pid_t pid) : pid_(pid) {}
  pid_t pid_;
};

// The guard's own program: `ballast __track-guard TRACK_FILE PARENT_PID` (started by
// TrackGuard::start only).
inline constexpr const char* kTrackGuardCommand = "__track-guard";
int run_track_guard(int argc, char** argv);

}  // namespace ballast::control
