// Zero-downtime binary upgrades: the running ballast hands its sockets to a new process
// (SIGUSR2 or POST /api/v1/upgrade) and drains; under constant load, with keep-alive and new
// connections, no request fails.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <atomic>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/http_client.h"
#include "support/load_loop.h"
#include "support/processes.h"
#include "support/test_env.h"
#include "support/test_pki.h"

namespace ballast::test {
namespace {

using nlohmann::json;

json status(uint16_t admin_port) {
  return json::parse(admin_call(admin_port, "GET", "/api/v1/status").body, nullptr, false);
}

int serving_pid(uint16_t admin_port) {
  json s = status(admin_port);
  return s.is_object() ? s.value("pid", 0) : 0;
}

bool gone(int pid) {
  auto info = process_info(pid);
  return !info || info->state == 'Z';
}

// The processes of an upgrade chain outlive their parents: this test process adopts them
// (a subreaper), reaps them, and stops the last one however the test ends.
class UpgradeChain {
 public:
  UpgradeChain() { prctl(PR_SET_CHILD_SUBREAPER, 1); }
  ~UpgradeChain() {
    if (last_ > 0 && !gone(last_)) {
      kill(last_, SIGTERM);
      within(15, [&] { return gone(last_); });
      if (!gone(last_)) kill(last_, SIGKILL);
    }
    reap();
  }
  void follow(int pid) { last_ = pid; }
  void reap() {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }

 private:
  int last_ = 0;
};

// Hands over from the process serving on `admin_port` to a new one, by SIGUSR2 or the
// API; returns the new pid once it serves and the old one has exited (0 on failure).
int upgrade(uint16_t admin_port, bool by_signal, std::string* why) {
  int old_pid = serving_pid(admin_port);
  if (old_pid == 0) {
    *why = "no status from the admin API";
    return 0;
  }
  if (by_signal) {
    kill(old_pid, SIGUSR2);
  } else {
    AdminAnswer a = admin_call(admin_port, "POST", "/api/v1/upgrade");
    if (a.status != 202) {
      *why = "POST /api/v1/upgrade: " + std::to_string(a.status) + " " + a.body;
      return 0;
    }
  }
  int new_pid = 0;
  if (!within(30, [&] {
        int pid = serving_pid(admin_port);
        if (pid != 0 && pid != old_pid) new_pid = pid;
        return new_pid != 0;
      })) {
    *why = "no new process answered: " + status(admin_port).dump();
    return 0;
  }
  if (!within(30, [&] { return gone(old_pid); })) {
    *why = "the old process (" + std::to_string(old_pid) + ") did not exit";
    return 0;
  }
  return new_pid;
}

TEST(UpgradeTest, TenUpgradesUnderLoadFailNoRequest) {
  DemoBackend a("a"), b("b");
  UpgradeChain chain;
  Ballast lb(proxy_config({a.port(), b.port()}, "", "", 2));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  chain.follow(lb.process().pid());

  LoadLoop keep_alive(lb.port(), 4);
  std::atomic<bool> stop{false};
  std::atomic<int> fresh_done{0}, fresh_failed{0};
  std::string fresh_failure;
  std::thread fresh([&] {
    for (int i = 0; i < 200000 && !stop; ++i) {
      auto r = http_get(lb.port(), "/");
      if (r && r->status == 200) {
        ++fresh_done;
      } else if (fresh_failed++ == 0) {
        fresh_failure = r ? "status " + std::to_string(r->status) : "no answer";
      }
    }
  });
  ASSERT_TRUE(keep_alive.wait_for_more(500)) << lb.process().log();
  std::vector<int> pids{lb.process().pid()};
  for (int i = 0; i < 10; ++i) {
    std::string why;
    int pid = upgrade(lb.admin_port(), i % 2 == 0, &why);
    if (pid == 0) {
      stop = true;
      fresh.join();
      FAIL() << "upgrade " << i + 1 << ": " << why << "\n" << lb.process().log();
    }
    chain.follow(pid);
    chain.reap();
    pids.push_back(pid);
    ASSERT_TRUE(keep_alive.wait_for_more(300)) << "upgrade " << i + 1 << "\n" << lb.process().log();
  }
  keep_alive.stop();
  stop = true;
  fresh.join();
  EXPECT_EQ(keep_alive.failed(), 0) << keep_alive.first_failure() << "\n" << lb.process().log();
  EXPECT_EQ(fresh_failed.load(), 0) << fresh_failure << "\n" << lb.process().log();
  EXPECT_GT(fresh_done.load(), 100);
  std::cout << "10 upgrades under load: " << keep_alive.done() << " keep-alive requests and "
            << fresh_done.load() << " on new connections, " << keep_alive.failed() + fresh_failed
            << " failed\n";
  // Each handover is in the shared log (the processes inherit its stdout).
  std::string log = lb.process().log();
  EXPECT_NE(log.find("took over from pid " + std::to_string(pids[9])), std::string::npos) << log;
}

// TLS sessions made before an upgrade resume after it: the ticket keys are handed over.
TEST(UpgradeTest, TlsSessionsResumeAcrossAnUpgrade) {
  std::string dir = make_temp_dir();
  TestPki pki(dir);
  auto site = pki.issue("site", {"site.test"});
  DemoBackend backend;
  UpgradeChain chain;
  Ballast lb(
      "listeners:\n  - name: site\n    bind: 127.0.0.1:${PORT}\n    tls:\n"
      "      certificates: [ { cert: " +
      site.cert + ", key: " + site.key +
      " } ]\n"
      "    rules:\n      - forward: { target_group: app }\n"
      "target_groups:\n  - { name: app, targets: [ { address: " +
      loopback(backend.port()) + " } ] }\n");
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  chain.follow(lb.process().pid());
  TlsOptions o;
  o.server_name = "site.test";
  o.ca_file = pki.ca_file();
  std::shared_ptr<SSL_SESSION> session;
  {
    Client c(lb.port());
    ASSERT_TRUE(c.start_tls(o)) << c.tls().error;
    ASSERT_TRUE(c.get("/"));
    session = c.tls_session();
  }
  std::string why;
  int pid = upgrade(lb.admin_port(), false, &why);
  ASSERT_NE(pid, 0) << why << "\n" << lb.process().log();
  chain.follow(pid);
  o.session = session;
  Client again(lb.port());
  ASSERT_TRUE(again.start_tls(o)) << again.tls().error;
  EXPECT_TRUE(again.tls().resumed);
  ASSERT_TRUE(again.get("/"));
}

// A new binary that cannot start (here: the configuration file broke meanwhile) leaves
// the running one serving, and says why.
TEST(UpgradeTest, ANewProcessThatCannotStartLeavesTheOldOneServing) {
  DemoBackend backend;
  UpgradeChain chain;
  Ballast lb(proxy_config({backend.port()}));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  chain.follow(lb.process().pid());
  write_file(lb.config_path(), "listeners: [ this is not valid\n");
  AdminAnswer a = admin_call(lb.admin_port(), "POST", "/api/v1/upgrade");
  ASSERT_EQ(a.status, 202) << a.body;
  ASSERT_TRUE(within(20, [&] {
    json s = status(lb.admin_port());
    return s.is_object() && !s["last_upgrade"].value("ok", true);
  })) << status(lb.admin_port()).dump();
  json s = status(lb.admin_port());
  EXPECT_EQ(s.value("pid", 0), lb.process().pid());
  EXPECT_NE(s["last_upgrade"].value("message", "").find("YAML syntax error"), std::string::npos)
      << s.dump();
  auto r = http_get(lb.port(), "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

}  // namespace
}  // namespace ballast::test
