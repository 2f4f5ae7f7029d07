#include "support/launch_journal.h"

#include <signal.h>

#include <sstream>

#include "support/test_env.h"

namespace ballast::test {

LaunchJournal read_launch_journal(const std::string& state_dir) {
  LaunchJournal journal;
  std::istringstream lines(read_file(state_dir + "/launches.log"));
  std::string id, address;
  int pid = 0;
  while (lines >> id >> pid >> address) {
    ++journal.times[id];
    journal.pid[id] = pid;
  }
  return journal;
}

void kill_launched_backends(const std::string& state_dir) {
  for (const auto& [id, pid] : read_launch_journal(state_dir).pid) {
    if (pid <= 0) continue;
    ::kill(pid, SIGCONT);  // a test may have stopped it
    ::kill(pid, SIGKILL);
  }
}

}  // namespace ballast::test
