// `ballast load`: open-loop load at a set rate, with a JSON summary and an exit status
// that says whether anything failed.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/recording_server.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

TEST(LoadCommandTest, SendsAtTheRateAndSummarises) {
  DemoBackend a("a");
  std::string dir = make_temp_dir();
  // Durations take the configuration's units, or a bare number of seconds (--timeout).
  Process load({BALLAST_BINARY, "load", "http://" + loopback(a.port()) + "/", "--rate", "200",
                "--duration", "2s", "--timeout", "1.5", "--json"},
               dir + "/load.out");
  ASSERT_EQ(load.wait_exit(30000), 0) << load.log();
  std::string out = load.log();
  auto j = nlohmann::json::parse(out.substr(out.find('{')));
  EXPECT_NEAR(j["scheduled"].get<double>(), 400, 5) << out;
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
  std::string dir = make_temp_dir();
  Process load({BALLAST_BINARY, "load", "http://" + loopback(server.port()) + "/", "--rate", "20",
                "--duration", "2s", "--connections", "1", "--json"},
               dir + "/load.out");
  ASSERT_EQ(load.wait_exit(30000), 0) << load.log();
  std::string out = load.log();
  auto j = nlohmann::json::parse(out.substr(out.find('{')));
  EXPECT_EQ(j["ok"], j["scheduled"]) << out;
  EXPECT_GE(j["resent"].get<int>(), 10) << out;
  EXPECT_TRUE(j["errors_by_second"].empty()) << out;
}

TEST(LoadCommandTest, IdleConnectionsTheServerClosedAreDropped) {
  DemoBackend a("a");
  Ballast lb(proxy_config({a.port()}, "", "    idle_timeout: 100ms\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  std::string dir = make_temp_dir();
  // 250 ms between requests: ballast closes each connection before the next request.
  Process load({BALLAST_BINARY, "load", "http://" + loopback(lb.port()) + "/", "--rate", "4",
                "--duration", "2s", "--connections", "1", "--json"},
               dir + "/load.out");
  ASSERT_EQ(load.wait_exit(30000), 0) << load.log();
  std::string out = load.log();
  auto j = nlohmann::json::parse(out.substr(out.find('{')));
  EXPECT_EQ(j["ok"], j["scheduled"]) << out;
  EXPECT_GE(j["idle_closed_by_server"].get<int>(), 4) << out;
}

TEST(LoadCommandTest, FailuresAreCountedByKind) {
  uint16_t closed = free_port();
  std::string dir = make_temp_dir();
  Process load({BALLAST_BINARY, "load", "http://" + loopback(closed) + "/", "--rate", "20",
                "--duration", "1", "-q"},
               dir + "/load.out");
  EXPECT_EQ(load.wait_exit(30000), 1) << load.log();
  EXPECT_NE(load.log().find("refused"), std::string::npos) << load.log();
  Process json({BALLAST_BINARY, "load", "http://" + loopback(closed) + "/", "--rate", "20",
                "--duration", "1", "--json"},
               dir + "/load.json");
  EXPECT_EQ(json.wait_exit(30000), 1) << json.log();
  std::string out = json.log();
  auto j = nlohmann::json::parse(out.substr(out.find('{')));
  int by_second = 0;
  for (const auto& [second, kinds] : j["errors_by_second"].items()) {
    by_second += kinds["refused"].get<int>();
  }
  EXPECT_EQ(by_second, j["errors"]["refused"].get<int>()) << out;
}

TEST(LoadCommandTest, QueueingShowsInTheLatency) {
  DemoBackend a("a");
  std::string dir = make_temp_dir();
  // One connection, 20 ms per request, 100 requests/s asked: the queue grows, and the
  // latency from the intended send time shows it (no coordinated omission).
  Process load({BALLAST_BINARY, "load", "http://" + loopback(a.port()) + "/sleep?ms=20", "--rate",
                "100", "--duration", "1", "--connections", "1", "--json"},
               dir + "/load.out");
  ASSERT_EQ(load.wait_exit(30000), 0) << load.log();
  std::string out = load.log();
  auto j = nlohmann::json::parse(out.substr(out.find('{')));
  EXPECT_GT(j["latency_ms"]["max"].get<double>(), 500) << out;
  EXPECT_GT(j["max_waiting"].get<int>(), 10) << out;
}

}  // namespace
}  // namespace ballast::test
