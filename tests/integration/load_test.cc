// `ballast load`: open-loop load at a set rate, with a JSON summary and an exit status
// that says whether anything failed.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/process.h"
#include "support/recording_server.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

// `ballast load URL ARGS... --json`: its exit status and its summary (null when it printed
// none), with everything it printed for failure messages.
struct LoadRun {
  int status = -1;
  nlohmann::json summary;
  std::string output;
};
LoadRun run_load(const std::string& url, std::vector<std::string> args) {
  std::vector<std::string> argv = {BALLAST_BINARY, "load", url};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--json");
  Process load(argv, make_temp_dir() + "/load.out");
  LoadRun r;
  r.status = load.wait_exit(30000);
  r.output = load.log();
  size_t brace = r.output.find('{');
  if (brace != std::string::npos) {
    r.summary = nlohmann::json::parse(r.output.substr(brace), nullptr, false);
  }
  return r;
}

TEST(LoadCommandTest, SendsAtTheRateAndSummarises) {
  DemoBackend a("a");
  // Durations take the configuration's units, or a bare number of seconds (--timeout).
  LoadRun r = run_load("http://" + loopback(a.port()) + "/",
                       {"--rate", "200", "--duration", "2s", "--timeout", "1.5"});
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json& j = r.summary;
  EXPECT_NEAR(j["scheduled"].get<double>(), 400, 5) << r.output;
  EXPECT_EQ(j["completed"], j["scheduled"]);
  EXPECT_EQ(j["ok"], j["completed"]);
  EXPECT_TRUE(j["errors"].empty());
  EXPECT_GT(j["latency_ms"]["p99"].get<double>(), 0);
}

TEST(LoadCommandTest, BadDurationsAndRatesAreRefusedWithTheReason) {
  std::string dir = make_temp_dir();
  Process duration({BALLAST_BINARY, "load", "http://127.0.0.1:1/", "--duration", "1e300"},
                   dir + "/duration.out");
  EXPECT_NE(duration.wait_exit(10000), 0);
  EXPECT_NE(duration.log().find("--duration: \"1e300\" is not a duration"), std::string::npos)
      << duration.log();
  Process rate({BALLAST_BINARY, "load", "http://127.0.0.1:1/", "--rate", "nan"}, dir + "/rate.out");
  EXPECT_EQ(rate.wait_exit(10000), 2);
  EXPECT_NE(rate.log().find("--rate nan: a rate is a number of requests per second"),
            std::string::npos)
      << rate.log();
}

TEST(LoadCommandTest, ARequestOnAConnectionTheServerClosedIsSentAgainOnce) {
  // Every third request is met with a close and no answer. With one connection at a time,
  // that is always the third request of a reused connection: sent again on a new one, it
  // is answered, and nothing fails.
  std::atomic<int> seen{0};
  RecordingServer server([&](const std::string&) -> std::string {
    if (++seen % 3 == 0) return "";
    return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  });
  LoadRun r = run_load("http://" + loopback(server.port()) + "/",
                       {"--rate", "20", "--duration", "2s", "--connections", "1"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.summary["ok"], r.summary["scheduled"]) << r.output;
  EXPECT_GE(r.summary["resent"].get<int>(), 10) << r.output;
  EXPECT_TRUE(r.summary["errors_by_second"].empty()) << r.output;
}

TEST(LoadCommandTest, IdleConnectionsTheServerClosedAreDropped) {
  DemoBackend a("a");
  Ballast lb(proxy_config({a.port()}, "", "    idle_timeout: 100ms\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  // 250 ms between requests: ballast closes each connection before the next request.
  LoadRun r = run_load("http://" + loopback(lb.port()) + "/",
                       {"--rate", "4", "--duration", "2s", "--connections", "1"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.summary["ok"], r.summary["scheduled"]) << r.output;
  EXPECT_GE(r.summary["idle_closed_by_server"].get<int>(), 4) << r.output;
}

TEST(LoadCommandTest, FailuresAreCountedByKind) {
  uint16_t closed = free_port();
  std::string dir = make_temp_dir();
  Process load({BALLAST_BINARY, "load", "http://" + loopback(closed) + "/", "--rate", "20",
                "--duration", "1", "-q"},
               dir + "/load.out");
  EXPECT_EQ(load.wait_exit(30000), 1) << load.log();
  EXPECT_NE(load.log().find("refused"), std::string::npos) << load.log();
  LoadRun json = run_load("http://" + loopback(closed) + "/", {"--rate", "20", "--duration", "1"});
  EXPECT_EQ(json.status, 1) << json.output;
  int by_second = 0;
  for (const auto& [second, kinds] : json.summary["errors_by_second"].items()) {
    by_second += kinds["refused"].get<int>();
  }
  EXPECT_EQ(by_second, json.summary["errors"]["refused"].get<int>()) << json.output;
}

TEST(LoadCommandTest, QueueingShowsInTheLatency) {
  DemoBackend a("a");
  // One connection, 20 ms per request, 100 requests/s asked: the queue grows, and the
  // latency from the intended send time shows it (no coordinated omission).
  LoadRun r = run_load("http://" + loopback(a.port()) + "/sleep?ms=20",
                       {"--rate", "100", "--duration", "1", "--connections", "1"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_GT(r.summary["latency_ms"]["max"].get<double>(), 500) << r.output;
  EXPECT_GT(r.summary["max_waiting"].get<int>(), 10) << r.output;
}

}  // namespace
}  // namespace ballast::test
