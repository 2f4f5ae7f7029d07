// Retries: a request whose connection to a target fails, or that gets a status listed in
// retry_on_status, goes to another target when it is idempotent and has no body; others
// get a 502 (or the status). total_timeout bounds every try together.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "support/http_client.h"
#include "support/recording_server.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

// Sends `request` `n` times, each on a new connection (a 502 closes it); counts statuses.
std::map<int, int> statuses(uint16_t port, const std::string& request, int n) {
  std::map<int, int> seen;
  for (int i = 0; i < n; ++i) {
    Client c(port);
    auto r = c.send_raw(request) ? c.read_response() : std::nullopt;
    seen[r ? r->status : 0]++;
  }
  return seen;
}

const std::string kGet = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";

TEST(RetryTest, ConnectionRefusedIsRetriedOnAnotherTarget) {
  DemoBackend a("a");
  uint16_t closed = free_port();
  Ballast lb(proxy_config({closed, a.port()}, "    algorithm: round_robin\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  Client c(lb.port());
  for (int i = 0; i < 10; ++i) {
    auto r = c.get("/health");
    ASSERT_TRUE(r) << lb.process().log();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("x-ballast-instance"), "a");
  }
  EXPECT_NE(lb.process().log().find("retrying on 127.0.0.1:" + std::to_string(a.port())),
            std::string::npos)
      << lb.process().log();
}

TEST(RetryTest, RequestsWithABodyOrNotIdempotentAreNotRetried) {
  DemoBackend a("a");
  uint16_t closed = free_port();
  Ballast lb(proxy_config({closed, a.port()}, "    algorithm: round_robin\n"));
  ASSERT_TRUE(lb.ready());
  auto seen =
      statuses(lb.port(), "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 4);
  EXPECT_EQ(seen[502], 2) << "POST is not idempotent: the closed target's share fails";
  EXPECT_EQ(seen[200], 2);
}

TEST(RetryTest, RetriesZeroTurnsThemOff) {
  uint16_t closed = free_port();
  DemoBackend a("a");
  Ballast lb(proxy_config({closed, a.port()}, "    algorithm: round_robin\n    retries: 0\n"));
  ASSERT_TRUE(lb.ready());
  EXPECT_EQ(statuses(lb.port(), kGet, 4)[502], 2);
}

TEST(RetryTest, AnEmptyRetryBudgetAllowsNoRetry) {
  uint16_t closed = free_port();
  DemoBackend a("a");
  Ballast lb(proxy_config({closed, a.port()},
                          "    algorithm: round_robin\n    retry_budget_percent: 0\n"
                          "    retry_min_concurrency: 0\n"));
  ASSERT_TRUE(lb.ready());
  EXPECT_EQ(statuses(lb.port(), kGet, 4)[502], 2);
  EXPECT_NE(lb.process().log().find("retry budget of target group \"app\" spent"),
            std::string::npos)
      << lb.process().log();
}

TEST(RetryTest, KillingATargetUnderLoadFailsNoIdempotentRequest) {
  DemoBackend a("a"), b("b");
  Ballast lb(proxy_config({a.port(), b.port()}, "    algorithm: round_robin\n", "", /*workers=*/2));
  ASSERT_TRUE(lb.ready());
  std::atomic<int> done{0}, failed{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      Client c(lb.port());
      for (int i = 0; i < 2000 && !stop.load(); ++i) {
        if (!c.send_raw("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")) {
          ++failed;
          return;
        }
        auto r = c.read_response();
        if (!r || r->status != 200) ++failed;
        ++done;
      }
    });
  }
  // Bounded waits: at most 10 s each.
  for (int i = 0; i < 2000 && done.load() < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  b.process().signal(SIGKILL);
  int at_kill = done.load();
  for (int i = 0; i < 2000 && done.load() < at_kill + 400 && failed.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(failed.load(), 0) << lb.process().log();
  EXPECT_GE(done.load(), at_kill + 400);
}

std::string answer(int status) {
  return "HTTP/1.1 " + std::to_string(status) + " Whatever\r\nContent-Length: 4\r\n\r\nbusy";
}

// A target that takes `ms` to answer 200.
RecordingServer::Responder slow(int ms) {
  return [ms](const std::string&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow");
  };
}

TEST(StatusRetryTest, ConfiguredStatusesAreRetriedOnAnotherTarget) {
  DemoBackend a("a");
  RecordingServer busy([](const std::string&) { return answer(503); });
  Ballast lb(proxy_config({busy.port(), a.port()},
                          "    algorithm: round_robin\n    retry_on_status: [502, 503]\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  auto seen = statuses(lb.port(), kGet, 10);
  EXPECT_EQ(seen[200], 10) << lb.process().log();
  EXPECT_GE(busy.requests(), 5u) << "the 503 target was tried, its answers dropped";
  EXPECT_NE(lb.process().log().find("answered 503; retrying on"), std::string::npos);
}

TEST(StatusRetryTest, WithoutRetryOnStatusTheStatusIsForwarded) {
  DemoBackend a("a");
  RecordingServer busy([](const std::string&) { return answer(503); });
  Ballast lb(proxy_config({busy.port(), a.port()}, "    algorithm: round_robin\n"));
  ASSERT_TRUE(lb.ready());
  EXPECT_EQ(statuses(lb.port(), kGet, 10)[503], 5);
}

TEST(StatusRetryTest, WhenEveryTryFailsTheLastAnswerIsForwarded) {
  RecordingServer one([](const std::string&) { return answer(503); });
  RecordingServer two([](const std::string&) { return answer(502); });
  Ballast lb(proxy_config({one.port(), two.port()},
                          "    algorithm: round_robin\n    retry_on_status: [502, 503]\n"));
  ASSERT_TRUE(lb.ready());
  auto seen = statuses(lb.port(), kGet, 4);
  EXPECT_EQ(seen[502] + seen[503], 4) << "the second target's own answer, not a 502 of ours";
  EXPECT_EQ(one.requests() + two.requests(), 8u) << "each request tried both, once";
}

TEST(StatusRetryTest, NonIdempotentRequestsOnlyWhenTheRuleAllows) {
  DemoBackend a("a");
  RecordingServer busy([](const std::string&) { return answer(503); });
  const std::string post = "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
  const std::string group = "    algorithm: round_robin\n    retry_on_status: [503]\n";
  Ballast plain(proxy_config({busy.port(), a.port()}, group));
  ASSERT_TRUE(plain.ready());
  EXPECT_EQ(statuses(plain.port(), post, 4)[503], 2) << "POST is not retried by default";

  std::string allowing = replace_all(proxy_config({busy.port(), a.port()}, group),
                                     "      - forward: { target_group: app }\n",
                                     "      - forward: { target_group: app }\n"
                                     "        retry_non_idempotent: true\n");
  Ballast lb(allowing);
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  auto seen = statuses(lb.port(), post, 4);
  EXPECT_EQ(seen[200], 4) << lb.process().log();
}

TEST(StatusRetryTest, APerTryTimeoutIsRetriedWhen504IsListed) {
  DemoBackend a("a");
  RecordingServer hanging(slow(2000));
  Ballast lb(proxy_config({hanging.port(), a.port()},
                          "    algorithm: round_robin\n    request_timeout: 300ms\n"
                          "    retry_on_status: [504]\n"));
  ASSERT_TRUE(lb.ready());
  auto seen = statuses(lb.port(), kGet, 4);
  EXPECT_EQ(seen[200], 4) << lb.process().log();
  EXPECT_NE(lb.process().log().find("did not respond within 300ms; retrying on"), std::string::npos)
      << lb.process().log();
}

TEST(StatusRetryTest, TotalTimeoutBoundsEveryTryTogether) {
  RecordingServer one(slow(2000)), two(slow(2000));
  Ballast lb(proxy_config({one.port(), two.port()},
                          "    algorithm: round_robin\n    request_timeout: 400ms\n"
                          "    total_timeout: 600ms\n    retry_on_status: [504]\n"));
  ASSERT_TRUE(lb.ready());
  auto r = http_get(lb.port(), "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504);
  EXPECT_NE(r->body.find("did not respond within total_timeout 600ms (2 tries)"), std::string::npos)
      << r->body;
}

}  // namespace
}  // namespace ballast::test
