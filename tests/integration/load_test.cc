// `ballast load`: open-loop load at a set rate, with a JSON summary and an exit status
// that says whether anything failed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/process.h"
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

TEST(LoadCommandTest, FailuresAreCountedByKind) {
  uint16_t closed = free_port();
  std::string dir = make_temp_dir();
  Process load({BALLAST_BINARY, "load", "http://" + loopback(closed) + "/", "--rate", "20",
                "--duration", "1", "-q"},
               dir + "/load.out");
  EXPECT_EQ(load.wait_exit(30000), 1) << load.log();
  EXPECT_NE(load.log().find("refused"), std::string::npos) << load.log();
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
