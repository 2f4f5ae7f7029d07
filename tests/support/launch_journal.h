#pragma once
#include <map>
#include <string>

namespace ballast::test {

// The journal that the example exec provider (examples/exec-provider/local-processes.py)
// keeps in its state folder: one "ID PID ADDRESS" line per backend it started.
struct LaunchJournal {
  std::map<std::string, int> times;  // instance id -> how many times a backend was started
  std::map<std::string, int> pid;    // instance id -> its latest backend's pid
};
LaunchJournal read_launch_journal(const std::string& state_dir);

// The exec provider's backends outlive ballast (as a platform's instances do): a test stops
// every backend the journal names, however it ends.
void kill_launched_backends(const std::string& state_dir);
struct LaunchedBackendsStopper {
  std::string state_dir;
  ~LaunchedBackendsStopper() { kill_launched_backends(state_dir); }
};

}  // namespace ballast::test
