#include "scale/external_metric.h"

#include <gtest/gtest.h>

#include <chrono>

#include "core/event_loop.h"
#include "support/recording_server.h"

namespace ballast::scale {
namespace {

config::PolicyMetric metric(config::PolicyMetric::Kind kind, const std::string& json_path = "") {
  config::PolicyMetric m;
  m.kind = kind;
  m.json_path = json_path;
  return m;
}

TEST(ExternalMetricTest, ACommandPrintsANumber) {
  std::string error;
  auto m = metric(config::PolicyMetric::Kind::kCommand);
  EXPECT_EQ(parse_external_value(m, "42\n", &error), 42.0);
  EXPECT_EQ(parse_external_value(m, "  3.5  ", &error), 3.5);
  EXPECT_FALSE(parse_external_value(m, "(integer) 42", &error));
  EXPECT_NE(error.find("not a number"), std::string::npos);
  EXPECT_FALSE(parse_external_value(m, "", &error));
}

TEST(ExternalMetricTest, HugeNegativeAndNonFiniteValuesAreErrors) {
  std::string error;
  auto command = metric(config::PolicyMetric::Kind::kCommand);
  EXPECT_FALSE(parse_external_value(command, "1e300", &error));
  EXPECT_NE(error.find("1e+300 is outside the accepted range 0 to 1000000000000"),
            std::string::npos)
      << error;
  EXPECT_FALSE(parse_external_value(command, "-3", &error));
  EXPECT_NE(error.find("-3 is outside"), std::string::npos) << error;
  EXPECT_FALSE(parse_external_value(command, "nan", &error));
  EXPECT_FALSE(parse_external_value(command, "inf", &error));
  auto json = metric(config::PolicyMetric::Kind::kHttpJson, "/v");
  EXPECT_FALSE(parse_external_value(json, R"({"v": 1e300})", &error));
  EXPECT_FALSE(parse_external_value(json, R"({"v": "NaN"})", &error));
  EXPECT_NE(error.find("not a finite number"), std::string::npos) << error;
  auto prometheus = metric(config::PolicyMetric::Kind::kPrometheus);
  EXPECT_FALSE(parse_external_value(
      prometheus, R"({"data":{"resultType":"vector","result":[{"value":[1,"+Inf"]}]}})", &error));
  EXPECT_EQ(parse_external_value(command, "1000000000000", &error), 1e12) << "the bound itself";
}

TEST(ExternalMetricTest, AJsonPointerPicksTheNumber) {
  std::string error;
  auto m = metric(config::PolicyMetric::Kind::kHttpJson, "/queue/depth");
  EXPECT_EQ(parse_external_value(m, R"({"queue": {"depth": 17}})", &error), 17.0);
  EXPECT_EQ(parse_external_value(m, R"({"queue": {"depth": "8"}})", &error), 8.0);
  EXPECT_FALSE(parse_external_value(m, R"({"queue": {}})", &error));
  EXPECT_NE(error.find("nothing at /queue/depth"), std::string::npos);
  EXPECT_FALSE(parse_external_value(m, "<html>", &error));
  EXPECT_EQ(parse_external_value(metric(config::PolicyMetric::Kind::kHttpJson), "12", &error), 12.0)
      << "no json_path: the body is the number";
}

TEST(ExternalMetricTest, APrometheusQueryGivesItsFirstSample) {
  std::string error;
  auto m = metric(config::PolicyMetric::Kind::kPrometheus);
  EXPECT_EQ(parse_external_value(m,
                                 R"({"status":"success","data":{"resultType":"vector","result":[)"
                                 R"({"metric":{},"value":[1795442400.5,"123.5"]}]}})",
                                 &error),
            123.5);
  EXPECT_EQ(
      parse_external_value(
          m, R"({"status":"success","data":{"resultType":"scalar","result":[1,"7"]}})", &error),
      7.0);
  EXPECT_FALSE(parse_external_value(
      m, R"({"status":"success","data":{"resultType":"vector","result":[]}})", &error));
  EXPECT_NE(error.find("no sample"), std::string::npos);
}

// Polls `source` on `loop` every 10 ms until it has a value (or 5 s).
void poll_until_value(core::EventLoop& loop, ExternalMetric& source) {
  struct Poller {
    core::EventLoop& loop;
    ExternalMetric& source;
    int ticks = 0;
    core::Timer timer{&Poller::fire, this};
    static void fire(void* self) {
      auto* p = static_cast<Poller*>(self);
      p->source.poll(p->loop.now_ms());
      if (p->source.value(p->loop.now_ms()) || ++p->ticks > 500) {
        p->loop.stop();
        return;
      }
      p->loop.timers().arm(p->timer, 10, p->loop.now_ms());
    }
  } poller{loop, source};
  loop.update_time();
  loop.timers().arm(poller.timer, 10, loop.now_ms());
  loop.run();
}

TEST(ExternalMetricTest, PollsACommandOnTheLoop) {
  core::EventLoop loop;
  config::PolicyMetric m = metric(config::PolicyMetric::Kind::kCommand);
  m.command = "echo 5";
  m.poll_interval_ms = 1000;
  ExternalMetric source(loop, m);
  poll_until_value(loop, source);
  EXPECT_EQ(source.value(loop.now_ms()), 5.0) << source.last_error();
  EXPECT_FALSE(source.value(loop.now_ms() + 10000)) << "stale after three intervals";
}

TEST(ExternalMetricTest, PollsAPrometheusQueryOverHttp) {
  test::RecordingServer prometheus([](const std::string&) {
    std::string body = R"({"status":"success","data":{"resultType":"vector","result":[)"
                       R"({"metric":{},"value":[1795442400,"17"]}]}})";
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  });
  core::EventLoop loop;
  config::PolicyMetric m = metric(config::PolicyMetric::Kind::kPrometheus);
  m.url = "http://127.0.0.1:" + std::to_string(prometheus.port()) + "/";
  m.query = "sum(rabbitmq_queue_messages{queue=\"jobs\"})";
  ExternalMetric source(loop, m);
  poll_until_value(loop, source);
  EXPECT_EQ(source.value(loop.now_ms()), 17.0) << source.last_error();
  EXPECT_NE(
      prometheus.received().find(
          "GET /api/v1/query?query=sum%28rabbitmq_queue_messages%7Bqueue%3D%22jobs%22%7D%29 "),
      std::string::npos)
      << prometheus.received();
}

}  // namespace
}  // namespace ballast::scale
