#pragma once
#include <cstdint>

namespace ballast::metrics {

// The process's own CPU time and resident memory, from /proc/self.
struct ProcessStats {
  double cpu_seconds = 0;  // user + system, all threads
  uint64_t resident_bytes = 0;
  uint64_t open_fds = 0;
};
ProcessStats read_process_stats();

}  // namespace ballast::metrics
