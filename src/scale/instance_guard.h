#pragma once
#include <signal.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ballast::scale {

// An instance's guard: a small process between ballast and the instance's command, so that
// an instance never outlives a ballast that was killed (SIGKILL, a crash, the OOM killer)
// and cannot stop it. The guard leads the instance's process group and runs the command as
// its child. When ballast dies, the kernel tells the guard (PR_SET_PDEATHSIG), and it stops
// the group as ballast would: SIGTERM, then SIGKILL after the stop timeout. Otherwise it is
// transparent: it ends as its child ended (the same exit status or signal), and a signal
// sent to it alone (not to the group, as ballast sends them) is passed on to the child.

// The argv that runs `command` (given to /bin/sh -c) under a guard, from `ballast_path`,
// watching the calling process.
std::vector<std::string> guarded_command(const std::string& ballast_path, int64_t stop_timeout_ms,
                                         const std::string& command);

// `ballast __instance-guard PARENT_PID STOP_TIMEOUT_MS PROGRAM ARGS...`: never returns when
// started well; returns 2 on a usage error.
int run_instance_guard(int argc, char** argv);

// The signals the guard waits for. It is spawned with them blocked, so that none can end
// it before it is ready to pass them on.
sigset_t instance_guard_signals();

inline constexpr const char* kInstanceGuardCommand = "__instance-guard";

}  // namespace ballast::scale
