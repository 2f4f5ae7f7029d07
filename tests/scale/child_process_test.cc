#include "scale/child_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "core/event_loop.h"
#include "scale/instance_guard.h"
#include "scale/process_provider.h"
#include "support/ports.h"
#include "support/processes.h"

namespace ballast::scale {
namespace {

// Runs the loop until `done` or 10 s, checking every 10 ms. (A loop runs once: stop()
// is for good.)
template <typename Pred>
bool run_until(core::EventLoop& loop, Pred done) {
  struct Check {
    core::EventLoop& loop;
    Pred& done;
    std::chrono::steady_clock::time_point deadline;
    core::Timer timer{&Check::fire, this};
    static void fire(void* self) {
      auto* c = static_cast<Check*>(self);
      if (c->done() || std::chrono::steady_clock::now() > c->deadline) {
        c->loop.stop();
        return;
      }
      c->loop.timers().arm(c->timer, 10, c->loop.now_ms());
    }
  } check{loop, done, std::chrono::steady_clock::now() + std::chrono::seconds(10)};
  loop.update_time();
  loop.timers().arm(check.timer, 10, loop.now_ms());
  loop.run();
  return done();
}

// Processes of group `pgid` that still run (zombies waiting for init to reap them do not).
int live_members(pid_t pgid) {
  int n = 0;
  for (const auto& p : test::all_processes()) n += p.group == pgid && p.state != 'Z';
  return n;
}

// A child of `options` run to its exit, `before` applied once it started.
struct Finished {
  std::unique_ptr<ChildProcess> child;
  pid_t group = -1;
  int status = -1;
};
Finished run_to_exit(const SpawnOptions& options,
                     const std::function<void(ChildProcess&)>& before = nullptr) {
  core::EventLoop loop;
  Finished f;
  std::string error;
  f.child = ChildProcess::spawn(
      loop, options, [&](int s) { f.status = s; }, &error);
  EXPECT_TRUE(f.child) << error;
  if (!f.child) return f;
  f.group = f.child->pid();
  if (before) before(*f.child);
  EXPECT_TRUE(run_until(loop, [&] { return f.status != -1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the group's last exits
  return f;
}

TEST(ChildProcessTest, CapturesOutputAndExitStatusWithInput) {
  SpawnOptions o;
  o.command = "read line; echo \"got $line\"; echo oops >&2; exit 3";
  o.capture_output = true;
  o.input = "hello\n";
  Finished f = run_to_exit(o);
  ASSERT_TRUE(f.child);
  EXPECT_EQ(describe_exit(f.status), "exited with status 3");
  EXPECT_EQ(f.child->output(), "got hello\n");
  EXPECT_EQ(f.child->errors(), "oops\n");
}

TEST(ChildProcessTest, SignalsReachTheWholeProcessGroup) {
  SpawnOptions o;
  o.command = "sleep 30 & sleep 30; wait";
  Finished f = run_to_exit(o, [](ChildProcess& c) { c.signal_group(SIGTERM); });
  EXPECT_EQ(describe_exit(f.status), "killed by SIGTERM");
  EXPECT_EQ(live_members(f.group), 0) << "no process of the group is left";
}

TEST(ChildProcessTest, WhatTheLeaderLeavesBehindEndsWithIt) {
  SpawnOptions o;
  o.command = "sleep 30 & exit 0";
  Finished f = run_to_exit(o);
  EXPECT_EQ(describe_exit(f.status), "exited with status 0");
  EXPECT_EQ(live_members(f.group), 0) << "the background sleep was killed with its group";
}

SpawnOptions guarded(const std::string& command) {
  SpawnOptions o;
  o.command = command;
  o.guard_binary = BALLAST_BINARY;
  o.guard_stop_timeout_ms = 2000;
  return o;
}

// A command that exits with status 7 on SIGTERM, once `ready` (a fresh file) exists.
std::string exits_7_on_sigterm(const std::string& ready) {
  std::filesystem::remove(ready);
  return "sleep 30 & trap 'exit 7' TERM; touch " + ready + "; while true; do sleep 0.05; done";
}

void wait_for_file(const std::string& path) {
  for (int i = 0; i < 500 && !std::filesystem::exists(path); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
}

TEST(InstanceGuardTest, EndsAsItsCommandEnded) {
  EXPECT_EQ(describe_exit(run_to_exit(guarded("exit 3")).status), "exited with status 3");
  EXPECT_EQ(describe_exit(run_to_exit(guarded("kill -KILL $$")).status), "killed by SIGKILL");
  // ballast signals the whole group: the guard outlives it and ends as its command did
  // (a guard killed by the SIGTERM would say "killed by SIGTERM").
  std::string ready = ::testing::TempDir() + "/guard-group-ready";
  Finished f = run_to_exit(guarded(exits_7_on_sigterm(ready)), [&](ChildProcess& c) {
    wait_for_file(ready);
    c.signal_group(SIGTERM);
  });
  EXPECT_EQ(describe_exit(f.status), "exited with status 7");
  EXPECT_EQ(live_members(f.group), 0) << "the background sleep went with the group";
}

TEST(InstanceGuardTest, PassesOnASignalSentToItAlone) {
  std::string ready = ::testing::TempDir() + "/guard-trap-ready";
  Finished f = run_to_exit(guarded(exits_7_on_sigterm(ready)), [&](ChildProcess& c) {
    wait_for_file(ready);
    // To the guard's pid, not its group, and not from its parent (which signals groups).
    EXPECT_EQ(std::system(("kill -TERM " + std::to_string(c.pid())).c_str()), 0);
  });
  EXPECT_EQ(describe_exit(f.status), "exited with status 7");
}

TEST(InstanceGuardTest, StopsItsCommandWhenItsParentDies) {
  // A shell stands in for ballast: it starts a guard, then is killed with SIGKILL.
  std::string pid_file = ::testing::TempDir() + "/guarded-sleep.pid";
  std::filesystem::remove(pid_file);
  SpawnOptions o;
  o.command = std::string(BALLAST_BINARY) + " " + kInstanceGuardCommand +
              " $$ 2000 /bin/sh -c 'echo $$ > " + pid_file + "; exec sleep 30' & " +
              "while [ ! -s " + pid_file + " ]; do sleep 0.02; done; kill -KILL $$";
  Finished f = run_to_exit(o);
  EXPECT_EQ(describe_exit(f.status), "killed by SIGKILL");
  std::ifstream in(pid_file);
  pid_t sleeper = 0;
  in >> sleeper;
  ASSERT_GT(sleeper, 0);
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    auto p = test::process_info(sleeper);
    gone = !p || p->state == 'Z';
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "the guarded command still runs after its guard's parent died";
}

config::LaunchConfig launch_config(const std::string& command, test::PortRange ports,
                                   int64_t stop_timeout_ms) {
  config::LaunchConfig l;
  l.command = command;
  l.port_first = ports.first;
  l.port_last = ports.last;
  l.log_directory = ::testing::TempDir() + "/ballast-provider-test";
  l.stop_timeout_ms = stop_timeout_ms;
  return l;
}

TEST(ProcessProviderTest, LaunchesOnAPortOfTheRangeAndReportsAnExit) {
  core::EventLoop loop;
  test::PortRange ports = test::free_port_range(11);
  config::LaunchConfig l = launch_config(
      "echo started on {port} as {instance_id} in {zone}; exec sleep 30", ports, 2000);
  ProcessProvider provider(loop, l, BALLAST_BINARY);
  std::string exited;
  provider.on_exit(
      [&](const std::string& id, const std::string& why) { exited = id + ": " + why; });
  LaunchResult result;
  bool answered = false;
  provider.launch(LaunchRequest{"web", "i-test", "a"}, [&](const LaunchResult& r) {
    result = r;
    answered = true;
  });
  EXPECT_FALSE(answered) << "never inside the call";
  bool killed = false;
  ASSERT_TRUE(run_until(loop, [&] {
    if (answered && !killed && result.ok) {
      ::kill(std::stoi(result.provider_id.substr(4)), SIGKILL);  // "pid N"
      killed = true;
    }
    return !exited.empty() || (answered && !result.ok);
  }));
  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(result.address.rfind("127.0.0.1:", 0), 0u) << result.address;
  int port = std::stoi(result.address.substr(10));
  EXPECT_TRUE(port >= ports.first && port <= ports.last) << "a port of the range: " << port;
  EXPECT_EQ(exited, "i-test: process killed by SIGKILL");
}

TEST(ProcessProviderTest, TerminateEscalatesToSigkill) {
  std::string dir = ::testing::TempDir() + "/stubborn-instance";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  // It notes the SIGTERM and carries on. The shell runs its trap only after the current
  // `sleep` ends and then forks `touch`; on a loaded machine (CI ran this beside the ASan suite)
  // that took longer than 300 ms, so the grace period is 2 s, which is time the test waits.
  core::EventLoop loop;
  config::LaunchConfig l = launch_config("trap 'touch " + dir + "/termed' TERM; touch " + dir +
                                             "/ready; while true; do sleep 0.05; done",
                                         test::free_port_range(11), 2000);
  ProcessProvider provider(loop, l, BALLAST_BINARY);
  bool answered = false, stopped = false;
  provider.launch(LaunchRequest{"web", "i-stubborn", "a"},
                  [&](const LaunchResult&) { answered = true; });
  bool asked = false;
  ASSERT_TRUE(run_until(loop, [&] {
    if (answered && !asked && std::filesystem::exists(dir + "/ready")) {
      provider.terminate("i-stubborn", [&](bool ok, const std::string&) { stopped = ok; });
      asked = true;
    }
    provider.poll(loop.now_ms());
    return stopped;
  }));
  EXPECT_TRUE(std::filesystem::exists(dir + "/termed")) << "SIGTERM came first, and was ignored";
}

}  // namespace
}  // namespace ballast::scale
