#include "metrics/process_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace ballast::metrics {

ProcessStats read_process_stats() {
  ProcessStats p;
  long ticks = sysconf(_SC_CLK_TCK);
  if (FILE* f = fopen("/proc/self/stat", "r")) {
    char buf[1024];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    // Fields after the command name, which is in parentheses and may hold spaces.
    const char* after = strrchr(buf, ')');
    unsigned long utime = 0, stime = 0;
    if (after != nullptr &&
        sscanf(after + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) ==
            2 &&
        ticks > 0) {
      p.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(ticks);
    }
  }
  if (FILE* f = fopen("/proc/self/statm", "r")) {
    unsigned long size = 0, resident = 0;
    if (fscanf(f, "%lu %lu", &size, &resident) == 2) {
      p.resident_bytes = resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    }
    fclose(f);
  }
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++p.open_fds;
    }
    closedir(d);
  }
  return p;
}

}  // namespace ballast::metrics
