#pragma once
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace ballast::test {

// A process as /proc/PID/stat shows it.
struct ProcessInfo {
  pid_t pid = 0;
  char state = '?';  // R, S, Z (ended, not yet reaped)...
  pid_t parent = 0;
  pid_t group = 0;
};

std::optional<ProcessInfo> process_info(pid_t pid);  // nullopt when it is gone
std::vector<ProcessInfo> all_processes();

}  // namespace ballast::test
