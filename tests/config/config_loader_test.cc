#include "config/config_loader.h"

#include <gtest/gtest.h>

#include <string>

#include "errors_text.h"

namespace ballast::config {
namespace {

// A one-listener file whose only target group "g" gets `group_extra` (lines indented by
// four spaces) before its targets; errors name the file g.yaml.
LoadResult load_group(const std::string& group_extra) {
  return load_config_string(
      "listeners: [{name: w, bind: 127.0.0.1:1, rules: [{forward: {target_group: g}}]}]\n"
      "target_groups:\n  - name: g\n" +
          group_extra + "    targets: [{address: 127.0.0.1:2}]\n",
      "g.yaml");
}

const char* kGood = R"(workers: 2
shutdown_timeout: 5s
listeners:
  - name: web
    bind: 127.0.0.1:8080
    header_timeout: 2s
    idle_timeout: 1m
    max_request_line: 4KiB
    max_header_size: 16KiB
    max_headers: 50
    rules:
      - match: { path_prefix: /api/ }
        forward: { target_group: api }
      - forward: { target_group: app }
target_groups:
  - name: app
    targets:
      - { address: 127.0.0.1:9001 }
  - name: api
    algorithm: weighted_round_robin
    connect_timeout: 500ms
    request_timeout: 10s
    keepalive: { max_idle: 8, idle_timeout: 10s }
    targets:
      - { address: 127.0.0.1:9002, weight: 3 }
      - { address: "[::1]:9003" }
)";

TEST(ConfigLoaderTest, ReadsEveryField) {
  auto r = load_config_string(kGood, "good.yaml");
  ASSERT_TRUE(r.config) << errors_of(r);
  const Config& c = *r.config;
  EXPECT_EQ(c.workers, 2u);
  EXPECT_EQ(c.shutdown_timeout_ms, 5000);
  ASSERT_EQ(c.listeners.size(), 1u);
  const auto& l = c.listeners[0];
  EXPECT_EQ(l.bind.port(), 8080);
  EXPECT_EQ(l.header_timeout_ms, 2000);
  EXPECT_EQ(l.idle_timeout_ms, 60000);
  EXPECT_EQ(l.limits.max_request_line, 4096u);
  EXPECT_EQ(l.limits.max_header_size, 16384u);
  EXPECT_EQ(l.limits.max_headers, 50u);
  ASSERT_EQ(l.rules.size(), 2u);
  EXPECT_EQ(*l.rules[0].match.path_prefix, "/api/");
  EXPECT_EQ(l.rules[0].forward.at(0).target_group_index, 1u);
  EXPECT_EQ(l.rules[1].forward.at(0).target_group_index, 0u);
  const auto& api = c.target_groups[1];
  EXPECT_EQ(api.algorithm, lb::Algorithm::kWeightedRoundRobin);
  EXPECT_EQ(api.connect_timeout_ms, 500);
  EXPECT_EQ(api.request_timeout_ms, 10000);
  EXPECT_EQ(api.keepalive.max_idle_per_target, 8u);
  EXPECT_EQ(api.targets[0].weight, 3u);
  EXPECT_EQ(api.targets[1].address.family(), AF_INET6);
}

TEST(ConfigLoaderTest, DefaultsMatchTheDocumentation) {
  auto r = load_config_string(
      "listeners: [{name: w, bind: 127.0.0.1:1, rules: [{forward: {target_group: g}}]}]\n"
      "target_groups: [{name: g, targets: [{address: 127.0.0.1:2}]}]\n",
      "min.yaml");
  ASSERT_TRUE(r.config) << errors_of(r);
  EXPECT_EQ(r.config->workers, 0u);
  EXPECT_EQ(r.config->shutdown_timeout_ms, 30000);
  const auto& l = r.config->listeners[0];
  EXPECT_EQ(l.header_timeout_ms, 10000);
  EXPECT_EQ(l.idle_timeout_ms, 60000);
  EXPECT_EQ(l.limits.max_request_line, 8192u);
  EXPECT_EQ(l.limits.max_header_size, 32768u);
  EXPECT_EQ(l.limits.max_headers, 100u);
  const auto& g = r.config->target_groups[0];
  EXPECT_EQ(g.algorithm, lb::Algorithm::kLeastOutstandingRequests);
  EXPECT_EQ(g.connect_timeout_ms, 5000);
  EXPECT_EQ(g.request_timeout_ms, 60000);
  EXPECT_EQ(g.retries, 1u);
  EXPECT_EQ(g.retry_budget_percent, 20u);
  EXPECT_TRUE(g.fail_open);
  EXPECT_FALSE(g.health_check.enabled);
  EXPECT_FALSE(g.outlier_detection.enabled);
  EXPECT_EQ(g.slow_start_ms, 0);
  EXPECT_EQ(g.deregistration_delay_ms, 30000);
  EXPECT_TRUE(g.retry_on_status.empty());
  EXPECT_EQ(g.total_timeout_ms, 0);
  EXPECT_TRUE(r.config->admin.enabled);
  EXPECT_EQ(r.config->admin.bind.to_string(), "127.0.0.1:9901");
  EXPECT_TRUE(r.config->admin.token.empty());
}

TEST(ConfigLoaderTest, RetriesOnStatusAndTimeouts) {
  auto r = load_group(
      "    retry_on_status: [502, 503]\n    total_timeout: 3s\n    deregistration_delay: 0s\n");
  ASSERT_TRUE(r.config) << errors_of(r);
  const auto& g = r.config->target_groups[0];
  EXPECT_EQ(g.retry_on_status, (std::vector<int>{502, 503}));
  EXPECT_EQ(g.total_timeout_ms, 3000);
  EXPECT_EQ(g.deregistration_delay_ms, 0);
  r = load_group("    retry_on_status: [502, 200, x]\n");
  EXPECT_NE(errors_of(r).find("g.yaml:4:28: target_groups[0].retry_on_status[1]: \"200\" is not a "
                              "status from 400 to 599"),
            std::string::npos)
      << errors_of(r);
  EXPECT_NE(errors_of(r).find("retry_on_status[2]"), std::string::npos) << errors_of(r);
}

TEST(ConfigLoaderTest, RetryNonIdempotentOnlyOnForwardRules) {
  auto r = load_config_string(
      "listeners: [{name: w, bind: 127.0.0.1:1, rules: [{forward: {target_group: g}, "
      "retry_non_idempotent: true}]}]\n"
      "target_groups: [{name: g, targets: [{address: 127.0.0.1:2}]}]\n",
      "r.yaml");
  ASSERT_TRUE(r.config) << errors_of(r);
  EXPECT_TRUE(r.config->listeners[0].rules[0].retry_non_idempotent);
  r = load_config_string(
      "listeners: [{name: w, bind: 127.0.0.1:1, rules: [{fixed_response: {status: 200}, "
      "retry_non_idempotent: true}]}]\n",
      "r.yaml");
  EXPECT_NE(errors_of(r).find("retry_non_idempotent: applies only to a forward rule"),
            std::string::npos)
      << errors_of(r);
}

// A file with one listener, group "g" and the given alarms; errors name a.yaml.
LoadResult load_alarms(const std::string& alarms) {
  return load_config_string(
      "listeners: [{name: w, bind: 127.0.0.1:1, rules: [{forward: {target_group: g}}]}]\n"
      "target_groups: [{name: g, targets: [{address: 127.0.0.1:2}]}]\nalarms:\n" +
          alarms,
      "a.yaml");
}

TEST(ConfigLoaderTest, Alarms) {
  auto r = load_alarms(
      "  - name: slow\n    metric: TargetResponseTime\n    dimensions: { target_group: g }\n"
      "    statistic: p99\n    period: 30s\n    evaluation_periods: 5\n"
      "    datapoints_to_alarm: 3\n    threshold: 0.25\n    comparison: \">=\"\n"
      "    treat_missing_data: not_breaching\n"
      "    actions: { alarm: [{ webhook: \"http://127.0.0.1:9000/hook\" }], ok: [{ log: true }] }\n"
      "  - name: bad\n    rule: ALARM(slow) AND NOT OK(\"slow\")\n");
  ASSERT_TRUE(r.config) << errors_of(r);
  const auto& a = r.config->alarms[0];
  EXPECT_EQ(a.period_s, 30);
  EXPECT_EQ(a.datapoints_to_alarm, 3u);
  EXPECT_EQ(a.threshold, 0.25);
  EXPECT_EQ(a.comparison, AlarmConfig::Comparison::kGreaterOrEqual);
  EXPECT_EQ(a.treat_missing_data, AlarmConfig::MissingData::kNotBreaching);
  ASSERT_EQ(a.on_alarm.size(), 1u);
  EXPECT_EQ(a.on_alarm[0].path, "/hook");
  EXPECT_EQ(a.on_alarm[0].address.port(), 9000);
  EXPECT_TRUE(r.config->alarms[1].parsed_rule);
}

TEST(ConfigLoaderTest, AlarmErrorsSayWhere) {
  auto expect = [](const std::string& alarms, const std::string& wanted) {
    auto r = load_alarms(alarms);
    EXPECT_FALSE(r.config);
    EXPECT_NE(errors_of(r).find(wanted), std::string::npos) << errors_of(r);
  };
  expect("  - { name: x, metric: M, threshold: 1, comparison: bigger }\n",
         "alarms[0].comparison: unknown comparison \"bigger\"");
  expect(
      "  - { name: x, metric: M, threshold: 1, evaluation_periods: 2, datapoints_to_alarm: 3 }\n",
      "datapoints_to_alarm (3) cannot exceed evaluation_periods (2)");
  expect("  - { name: x, metric: M }\n", "alarms[0].threshold: a metric alarm needs a threshold");
  expect("  - { name: x, metric: M, threshold: 1, dimensions: { target_group: nope } }\n",
         "no target_group named \"nope\"");
  expect("  - { name: x, metric: M, threshold: 1, statistic: Median }\n",
         "unknown statistic \"Median\"");
  expect("  - { name: x, metric: M, threshold: 1, treat_missing_data: zero }\n",
         "expected missing, not_breaching, breaching or ignore");
  expect("  - { name: x, rule: \"ALARM(y)\" }\n",
         "a.yaml:4:22: alarms[0].rule: no alarm named \"y\"");
  expect("  - { name: x, rule: \"ALARM(y)\" }\n  - { name: y, rule: \"OK(x)\" }\n",
         "depends on itself");
  expect("  - { name: x, rule: \"ALARM(\" }\n", "alarms[0].rule: rule, column 7");
  expect("  - { name: x, rule: \"TRUE\", threshold: 3 }\n",
         "alarms[0].threshold: a composite alarm (rule) has no threshold");
  expect(
      "  - { name: x, metric: M, threshold: 1, actions: { alarm: [{ webhook: \"https://a/b\" }] } "
      "}\n",
      "https is not supported here");
  expect("  - { name: x, metric: M, threshold: 1 }\n  - { name: x, metric: M, threshold: 2 }\n",
         "duplicate alarm name \"x\"");
}

TEST(ConfigLoaderTest, AdminSection) {
  const std::string base =
      "listeners: [{name: w, bind: 127.0.0.1:8080, rules: [{fixed_response: {status: 200}}]}]\n";
  auto r = load_config_string(base + "admin: { bind: 127.0.0.1:9999, token: abc }\n", "a.yaml");
  ASSERT_TRUE(r.config) << errors_of(r);
  EXPECT_EQ(r.config->admin.bind.port(), 9999);
  EXPECT_EQ(r.config->admin.token, "abc");
  r = load_config_string(base + "admin: { enabled: false }\n", "a.yaml");
  ASSERT_TRUE(r.config) << errors_of(r);
  EXPECT_FALSE(r.config->admin.enabled);
  r = load_config_string(base + "admin: { bind: 127.0.0.1:8080 }\n", "a.yaml");
  EXPECT_NE(errors_of(r).find("admin.bind: port 8080 is already used by listener \"w\""),
            std::string::npos)
      << errors_of(r);
  r = load_config_string(base + "admin: { token: a, token_file: /etc/hostname }\n", "a.yaml");
  EXPECT_NE(errors_of(r).find("give either token or token_file"), std::string::npos);
  r = load_config_string(base + "admin: { token_file: /nonexistent/token }\n", "a.yaml");
  EXPECT_NE(errors_of(r).find("admin.token_file: cannot read a token from \"/nonexistent/token\""),
            std::string::npos)
      << errors_of(r);
  r = load_config_string(base + "admin: { bnd: 127.0.0.1:1 }\n", "a.yaml");
  EXPECT_NE(errors_of(r).find("a.yaml:2:10: admin.bnd: unknown key"), std::string::npos)
      << errors_of(r);
}

// One broken line in an otherwise good file: the error names file:line:column and path.
struct Broken {
  const char* name;
  std::string from, to;  // replace `from` in kGood by `to`
  std::string expected;  // substring of the error output
};

// Names the case in test listings instead of dumping its bytes.
void PrintTo(const Broken& b, std::ostream* os) {
  *os << b.name;
}

class BrokenConfigTest : public ::testing::TestWithParam<Broken> {};

TEST_P(BrokenConfigTest, ReportsWhereAndWhat) {
  std::string text = kGood;
  size_t at = text.find(GetParam().from);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, GetParam().from.size(), GetParam().to);
  auto r = load_config_string(text, "cfg.yaml");
  EXPECT_FALSE(r.config);
  std::string out = errors_of(r);
  EXPECT_NE(out.find(GetParam().expected), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, BrokenConfigTest,
    ::testing::Values(
        Broken{"BadAddress", "127.0.0.1:9002, weight", "127.0.0.1:90o2, weight",
               "cfg.yaml:25:20: target_groups[1].targets[0].address: invalid address"},
        Broken{"UnknownKeyWithSuggestion", "    targets:\n      - { address: 127.0.0.1:9001",
               "    tagrets:\n      - { address: 127.0.0.1:9001",
               "cfg.yaml:17:5: target_groups[0].tagrets: unknown key \"tagrets\"; did you mean "
               "\"targets\"?"},
        Broken{"MissingGroup", "target_group: api }", "target_group: apii }",
               "cfg.yaml:13:34: listeners[0].rules[0].forward.target_group: target group \"apii\" "
               "does not exist; did you mean \"api\"?"},
        Broken{"DuplicateGroupName", "name: api", "name: app",
               "target_groups[1].name: duplicate target group name \"app\""},
        Broken{"DurationWithoutUnit", "connect_timeout: 500ms", "connect_timeout: 500",
               "cfg.yaml:21:22: target_groups[1].connect_timeout: invalid duration \"500\""},
        Broken{"BadSize", "max_header_size: 16KiB", "max_header_size: 16 kilobytes",
               "listeners[0].max_header_size: invalid size"},
        Broken{"BadAlgorithm", "algorithm: weighted_round_robin", "algorithm: wrr",
               "target_groups[1].algorithm"},
        Broken{"DuplicateKey", "    idle_timeout: 1m\n",
               "    idle_timeout: 1m\n    idle_timeout: 2m\n", "duplicate key \"idle_timeout\""},
        Broken{"WorkersOutOfRange", "workers: 2", "workers: 0", "cfg.yaml:1:10: workers:"},
        Broken{"PathMustBeAbsolute", "path_prefix: /api/", "path_prefix: api/",
               "listeners[0].rules[0].match.path_prefix: must start with \"/\""},
        Broken{"DuplicateTarget", "\"[::1]:9003\"", "127.0.0.1:9002",
               "target_groups[1].targets[1].address: target 127.0.0.1:9002 is listed twice"},
        Broken{"ZeroTimeout", "request_timeout: 10s", "request_timeout: 0s",
               "target_groups[1].request_timeout: duration 0s is out of range: expected 1ms to 7d"},
        Broken{"HugeHeaderLimit", "max_header_size: 16KiB", "max_header_size: 2GiB",
               "listeners[0].max_header_size: size 2GiB is out of range: expected 1KiB to 1MiB"},
        Broken{"YamlSyntax", "  - name: app\n", "  - name: [app\n", "cfg.yaml:"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(ConfigLoaderTest, HashOn) {
  auto header = load_group("    algorithm: ring_hash\n    hash_on: { header: X-User }\n");
  ASSERT_TRUE(header.config) << errors_of(header);
  EXPECT_EQ(header.config->target_groups[0].hash_on.kind, HashOn::Kind::kHeader);
  EXPECT_EQ(header.config->target_groups[0].hash_on.name, "X-User");
  auto cookie = load_group("    algorithm: maglev\n    hash_on: { cookie: sid }\n");
  ASSERT_TRUE(cookie.config) << errors_of(cookie);
  EXPECT_EQ(cookie.config->target_groups[0].hash_on.kind, HashOn::Kind::kCookie);
  auto path = load_group("    algorithm: maglev\n    hash_on: path\n");
  ASSERT_TRUE(path.config) << errors_of(path);
  EXPECT_EQ(path.config->target_groups[0].hash_on.kind, HashOn::Kind::kPath);

  auto wrong_algo = load_group("    algorithm: round_robin\n    hash_on: path\n");
  EXPECT_NE(errors_of(wrong_algo)
                .find("g.yaml:5:14: target_groups[0].hash_on: hash_on applies to "
                      "ring_hash and maglev, not to round_robin"),
            std::string::npos)
      << errors_of(wrong_algo);
  auto both = load_group("    algorithm: maglev\n    hash_on: { header: a, cookie: b }\n");
  EXPECT_NE(errors_of(both).find("give exactly one of header or cookie"), std::string::npos);
  auto unknown = load_group("    algorithm: maglev\n    hash_on: url\n");
  EXPECT_NE(errors_of(unknown).find("unknown hash key \"url\""), std::string::npos);
}

TEST(ConfigLoaderTest, HealthCheckAndOutlierDetection) {
  auto r = load_config_string(
      "listeners: [{name: w, bind: 127.0.0.1:1, rules: [{forward: {target_group: g}}]}]\n"
      "target_groups:\n  - name: g\n"
      "    health_check: { protocol: tcp, interval: 10s, timeout: 1s, healthy_threshold: 4,"
      " unhealthy_threshold: 1, matcher: \"200,204\", port: 8081 }\n"
      "    outlier_detection: { consecutive_failures: 2, base_ejection_time: 10s }\n"
      "    fail_open: false\n"
      "    targets: [{address: 127.0.0.1:2}]\n",
      "hc.yaml");
  ASSERT_TRUE(r.config) << errors_of(r);
  const auto& g = r.config->target_groups[0];
  EXPECT_TRUE(g.health_check.enabled);
  EXPECT_EQ(g.health_check.protocol, HealthCheckConfig::Protocol::kTcp);
  EXPECT_EQ(g.health_check.interval_ms, 10000);
  EXPECT_EQ(g.health_check.healthy_threshold, 4u);
  EXPECT_EQ(g.health_check.port, 8081);
  EXPECT_EQ(g.health_check.matcher, (std::vector<std::pair<int, int>>{{200, 200}, {204, 204}}));
  EXPECT_FALSE(g.fail_open);
  EXPECT_TRUE(g.outlier_detection.enabled);
  EXPECT_EQ(g.outlier_detection.consecutive_failures, 2u);
  EXPECT_EQ(g.outlier_detection.base_ejection_ms, 10000);

  auto bad = load_config_string(
      "listeners: [{name: w, bind: 127.0.0.1:1, rules: [{forward: {target_group: g}}]}]\n"
      "target_groups:\n  - name: g\n"
      "    health_check: { protocol: udp, interval: 1s, timeout: 2s, matcher: 2xx, path: health }\n"
      "    fail_open: maybe\n"
      "    targets: [{address: 127.0.0.1:2}]\n",
      "bad.yaml");
  std::string out = errors_of(bad);
  for (const char* expected : {"target_groups[0].health_check.protocol: unknown protocol \"udp\"",
                               "health_check.timeout: timeout must not be longer than interval",
                               "health_check.matcher: invalid status matcher \"2xx\"",
                               "health_check.path: must start with \"/\"",
                               "target_groups[0].fail_open: invalid value \"maybe\""}) {
    EXPECT_NE(out.find(expected), std::string::npos) << expected << "\n" << out;
  }
}

TEST(ConfigLoaderTest, SlowStart) {
  auto ok = load_group(
      "    algorithm: least_outstanding_requests\n    slow_start: 30s\n"
      "    slow_start_min_percent: 25\n");
  ASSERT_TRUE(ok.config) << errors_of(ok);
  EXPECT_EQ(ok.config->target_groups[0].slow_start_ms, 30000);
  EXPECT_EQ(ok.config->target_groups[0].slow_start_min_percent, 25u);
  auto hashed = load_group("    algorithm: maglev\n    slow_start: 30s\n");
  EXPECT_NE(errors_of(hashed).find("g.yaml:5:5: target_groups[0].slow_start: slow_start does not "
                                   "apply to maglev"),
            std::string::npos)
      << errors_of(hashed);
}

TEST(ConfigLoaderTest, RulesWithConditionsActionsAndPriorities) {
  auto r = load_config_string(R"(listeners:
  - name: w
    bind: 127.0.0.1:1
    rules:
      - forward: { target_group: g }
      - priority: 20
        match: { method: [GET, HEAD], headers: { X-Canary: "1" }, query: { v: "2" }, path_regex: "/items/[0-9]+" }
        fixed_response: { status: 418, body: "short and stout" }
      - priority: 10
        match: { host: old.example.com }
        redirect: { status: 308, location: "https://new.example.com#{path}" }
target_groups: [{name: g, targets: [{address: 127.0.0.1:2}]}]
)",
                              "rules.yaml");
  ASSERT_TRUE(r.config) << errors_of(r);
  const auto& rules = r.config->listeners[0].rules;
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].action, RuleConfig::Action::kRedirect) << "priority 10 first";
  EXPECT_EQ(rules[0].status, 308);
  EXPECT_EQ(rules[1].action, RuleConfig::Action::kFixedResponse);
  EXPECT_EQ(rules[1].status, 418);
  EXPECT_EQ(rules[1].match.methods, (std::vector<std::string>{"GET", "HEAD"}));
  EXPECT_TRUE(rules[1].match.path_regex);
  EXPECT_EQ(rules[2].action, RuleConfig::Action::kForward) << "rules without priority come last";

  auto bad = load_config_string(R"(listeners:
  - name: w
    bind: 127.0.0.1:1
    rules:
      - priority: 5
        match: { path_regex: "([a-z" , method: get }
        forward: { target_group: g }
        redirect: { location: /x, status: 305 }
      - priority: 5
        fixed_response: { status: 200 }
      - match: { path: /nothing }
target_groups: [{name: g, targets: [{address: 127.0.0.1:2}]}]
)",
                                "bad.yaml");
  std::string out = errors_of(bad);
  for (const char* expected :
       {"listeners[0].rules[0].match.path_regex: invalid regular expression",
        "listeners[0].rules[0].match.method: invalid method \"get\"",
        "listeners[0].rules[0]: a rule has exactly one action",
        "redirect.status: redirect status must be 301, 302, 303, 307 or 308",
        "listeners[0].rules[1].priority: priority 5 is also used by rules[0]",
        "listeners[0].rules[2]: rule has no action"}) {
    EXPECT_NE(out.find(expected), std::string::npos) << expected << "\n" << out;
  }
}

TEST(ConfigLoaderTest, WeightedForward) {
  auto r = load_config_string(
      "listeners: [{name: w, bind: 127.0.0.1:1, rules: [{forward: [{target_group: blue, weight: "
      "90},"
      " {target_group: green, weight: 10}]}]}]\n"
      "target_groups: [{name: blue, targets: [{address: 127.0.0.1:2}]},"
      " {name: green, targets: [{address: 127.0.0.1:3}]}]\n",
      "wf.yaml");
  ASSERT_TRUE(r.config) << errors_of(r);
  const auto& f = r.config->listeners[0].rules[0].forward;
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].weight, 90u);
  EXPECT_EQ(f[1].target_group_index, 1u);
  auto bad = load_config_string(
      "listeners: [{name: w, bind: 127.0.0.1:1, rules: [{forward: [{target_group: blue, weight: 1},"
      " {target_group: gren, weight: 1}]}]}]\n"
      "target_groups: [{name: blue, targets: [{address: 127.0.0.1:2}]},"
      " {name: green, targets: [{address: 127.0.0.1:3}]}]\n",
      "wf.yaml");
  EXPECT_NE(errors_of(bad).find("listeners[0].rules[0].forward[1].target_group: target group "
                                "\"gren\" does not exist; did you mean \"green\"?"),
            std::string::npos)
      << errors_of(bad);
}

TEST(ConfigLoaderTest, Stickiness) {
  auto lb_cookie = load_group("    stickiness: { type: lb_cookie, duration: 2h }\n");
  ASSERT_TRUE(lb_cookie.config) << errors_of(lb_cookie);
  EXPECT_EQ(lb_cookie.config->target_groups[0].stickiness.duration_ms, 7200000);
  EXPECT_NE(errors_of(load_group("    stickiness: { type: app_cookie }\n"))
                .find("app_cookie needs cookie_name"),
            std::string::npos);
  EXPECT_NE(errors_of(load_group("    stickiness: { type: source_ip }\n"))
                .find("unknown stickiness type \"source_ip\""),
            std::string::npos);
  EXPECT_NE(errors_of(load_group("    algorithm: maglev\n    stickiness: { type: lb_cookie }\n"))
                .find("stickiness and maglev both pin clients"),
            std::string::npos);
}

TEST(ConfigLoaderTest, ProtocolVersion) {
  auto plain = load_group("");
  ASSERT_TRUE(plain.config) << errors_of(plain);
  EXPECT_EQ(plain.config->target_groups[0].protocol_version,
            TargetGroupConfig::ProtocolVersion::kHttp1);
  auto h2 = load_group("    protocol_version: http2\n");
  ASSERT_TRUE(h2.config) << errors_of(h2);
  EXPECT_EQ(h2.config->target_groups[0].protocol_version,
            TargetGroupConfig::ProtocolVersion::kHttp2);
  EXPECT_EQ(h2.config->target_groups[0].tls.h2_context, nullptr) << "h2c: no TLS";
  std::string errors = errors_of(load_group("    protocol_version: h3\n"));
  EXPECT_NE(errors.find("target_groups[0].protocol_version"), std::string::npos) << errors;
  EXPECT_NE(errors.find("unknown protocol_version \"h3\"; expected http1 or http2"),
            std::string::npos)
      << errors;
  // A tcp listener relays bytes: it has no requests to send as HTTP/2.
  auto tcp = load_config_string(
      "listeners: [{name: db, bind: 127.0.0.1:1, protocol: tcp,\n"
      "             rules: [{forward: {target_group: g}}]}]\n"
      "target_groups: [{name: g, protocol_version: http2, targets: [{address: 127.0.0.1:2}]}]\n",
      "tcp.yaml");
  EXPECT_NE(errors_of(tcp).find("speaks HTTP/2 to its targets; a tcp listener relays bytes"),
            std::string::npos)
      << errors_of(tcp);
}

LoadResult load_rule_extra(const std::string& rule_extra, const std::string& listener_extra = "");

TEST(ConfigLoaderTest, ATcpListenersRelayIsTheKernelsUnlessItSaysUser) {
  auto tcp = [](const std::string& extra) {
    return load_config_string("listeners: [{name: db, bind: 127.0.0.1:1, protocol: tcp," + extra +
                                  "\n             rules: [{forward: {target_group: g}}]}]\n"
                                  "target_groups: [{name: g, targets: [{address: 127.0.0.1:2}]}]\n",
                              "tcp.yaml");
  };
  auto plain = tcp("");
  ASSERT_TRUE(plain.config) << errors_of(plain);
  EXPECT_EQ(plain.config->listeners[0].relay, ListenerConfig::Relay::kKernel);
  auto user = tcp(" relay: user,");
  ASSERT_TRUE(user.config) << errors_of(user);
  EXPECT_EQ(user.config->listeners[0].relay, ListenerConfig::Relay::kUserSpace);
  EXPECT_NE(
      errors_of(tcp(" relay: ebpf,"))
          .find("tcp.yaml:1:65: listeners[0].relay: unknown relay \"ebpf\"; expected kernel or "
                "user"),
      std::string::npos)
      << errors_of(tcp(" relay: ebpf,"));
  EXPECT_NE(errors_of(tcp(" relay: nat,"))
                .find("listeners[0].relay: unknown relay \"nat\"; expected kernel or user (nat is "
                      "for databases' writers)"),
            std::string::npos)
      << errors_of(tcp(" relay: nat,"));
  auto http = load_rule_extra("", "    relay: kernel\n");
  EXPECT_NE(errors_of(http).find("r.yaml:4:12: listeners[0].relay: relay applies to tcp listeners"),
            std::string::npos)
      << errors_of(http);
}

LoadResult load_rule_extra(const std::string& rule_extra, const std::string& listener_extra) {
  return load_config_string("listeners:\n  - name: w\n    bind: 127.0.0.1:1\n" + listener_extra +
                                "    rules:\n      - forward: { target_group: g }\n" + rule_extra +
                                "target_groups: [{name: g, targets: [{address: 127.0.0.1:2}]}]\n",
                            "r.yaml");
}

TEST(ConfigLoaderTest, ResponseHeaders) {
  using Mode = ResponseHeadersConfig::Field::Mode;
  auto ok = load_rule_extra(
      "        response_headers:\n"
      "          set: { Cache-Control: no-store }\n"
      "          add: { Link: '</a.css>; rel=preload' }\n"
      "          remove: [ Server ]\n"
      "          security_headers: { frame_options: DENY, content_security_policy: \"default-src "
      "'self'\" }\n");
  ASSERT_TRUE(ok.config) << errors_of(ok);
  const ResponseHeadersConfig& h = ok.config->listeners[0].rules[0].response_headers;
  ASSERT_EQ(h.fields.size(), 7u);
  EXPECT_EQ(h.fields[0].name, "Cache-Control");
  EXPECT_EQ(h.fields[0].mode, Mode::kSet);
  EXPECT_EQ(h.fields[1].mode, Mode::kAdd);
  EXPECT_EQ(h.fields[2].name, "Strict-Transport-Security");
  EXPECT_EQ(h.fields[2].value, "max-age=31536000");
  EXPECT_EQ(h.fields[2].mode, Mode::kDefault);
  EXPECT_EQ(h.fields[4].value, "DENY");
  EXPECT_EQ(h.fields[6].value, "default-src 'self'");
  EXPECT_EQ(h.remove, std::vector<std::string>{"Server"});
  EXPECT_NE(h.own_response_lines.find("X-Content-Type-Options: nosniff\r\n"), std::string::npos);

  for (auto [extra, message] : std::vector<std::pair<std::string, std::string>>{
           {"        response_headers: { set: { 'Bad Name': x } }\n",
            "\"Bad Name\" is not a valid header field name"},
           {"        response_headers: { remove: [ Content-Length ] }\n",
            "\"Content-Length\" is ballast's to state"},
           {"        response_headers: { add: { X-A: \"a\\nb\" } }\n", "holds a line break"},
           {"        response_headers: { security_headers: { frame_options: ALLOW } }\n",
            "expected DENY or SAMEORIGIN"},
           {"        response_headers: { sett: {} }\n", "sett"},
       }) {
    std::string errors = errors_of(load_rule_extra(extra));
    EXPECT_NE(errors.find(message), std::string::npos) << extra << errors;
    EXPECT_NE(errors.find("r.yaml:"), std::string::npos) << errors;
  }
}

TEST(ConfigLoaderTest, RateLimit) {
  auto ok = load_rule_extra(
      "        rate_limit: { requests: 100, per: 1m, burst: 20, key: { header: X-Api-Key } }\n");
  ASSERT_TRUE(ok.config) << errors_of(ok);
  const RateLimitConfig& r = ok.config->listeners[0].rules[0].rate_limit;
  EXPECT_TRUE(r.enabled);
  EXPECT_EQ(r.requests, 100u);
  EXPECT_EQ(r.period_ms, 60000);
  EXPECT_EQ(r.burst, 20u);
  EXPECT_EQ(r.key, RateLimitConfig::Key::kHeader);
  EXPECT_EQ(r.header, "X-Api-Key");
  ASSERT_NE(r.limiter, nullptr);
  EXPECT_EQ(r.limiter->interval_us(), 600000);
  auto defaults = load_rule_extra("        rate_limit: { requests: 10 }\n");
  ASSERT_TRUE(defaults.config) << errors_of(defaults);
  EXPECT_EQ(defaults.config->listeners[0].rules[0].rate_limit.burst, 10u);
  EXPECT_EQ(defaults.config->listeners[0].rules[0].rate_limit.key, RateLimitConfig::Key::kClientIp);
  for (auto [extra, message] : std::vector<std::pair<std::string, std::string>>{
           {"        rate_limit: { per: 1s }\n", "a rate limit needs requests"},
           {"        rate_limit: { requests: 0 }\n", "requests"},
           {"        rate_limit: { requests: 5, key: source }\n",
            "unknown key \"source\"; expected client_ip, rule or { header: NAME }"},
           {"        rate_limit: { requests: 5, key: { header: 'a b' } }\n",
            "not a valid header field name"},
       }) {
    std::string errors = errors_of(load_rule_extra(extra));
    EXPECT_NE(errors.find(message), std::string::npos) << extra << errors;
    EXPECT_NE(errors.find("rate_limit"), std::string::npos) << errors;
  }
}

TEST(ConfigLoaderTest, Compression) {
  auto on = load_rule_extra("        compression: true\n");
  ASSERT_TRUE(on.config) << errors_of(on);
  const CompressionConfig& d = on.config->listeners[0].rules[0].compression;
  EXPECT_TRUE(d.enabled);
  EXPECT_EQ(d.codings.size(), 3u);
  EXPECT_EQ(d.min_size, 1024u);
  auto custom = load_rule_extra(
      "        compression: { codings: [gzip, zstd], types: [text/html, 'application/*'], "
      "min_size: 4KiB }\n");
  ASSERT_TRUE(custom.config) << errors_of(custom);
  const CompressionConfig& c = custom.config->listeners[0].rules[0].compression;
  EXPECT_EQ(c.codings,
            (std::vector<compress::Coding>{compress::Coding::kGzip, compress::Coding::kZstd}));
  EXPECT_EQ(c.types, (std::vector<std::string>{"text/html", "application/*"}));
  EXPECT_EQ(c.min_size, 4096u);
  for (auto [extra, message] : std::vector<std::pair<std::string, std::string>>{
           {"        compression: { codings: [deflate] }\n",
            "unknown coding \"deflate\"; expected br, zstd or gzip"},
           {"        compression: { types: [html] }\n",
            "\"html\" is not a media type such as text/html or text/*"},
           {"        compression: { codings: [] }\n", "name at least one coding"},
       }) {
    std::string errors = errors_of(load_rule_extra(extra));
    EXPECT_NE(errors.find(message), std::string::npos) << extra << errors;
    EXPECT_NE(errors.find("r.yaml:"), std::string::npos) << errors;
  }
}

TEST(ConfigLoaderTest, Cache) {
  auto on = load_rule_extra("        cache: true\n");
  ASSERT_TRUE(on.config) << errors_of(on);
  const RuleCacheConfig& d = on.config->listeners[0].rules[0].cache;
  EXPECT_TRUE(d.enabled);
  EXPECT_EQ(d.ttl.default_ttl, 0);
  EXPECT_EQ(d.max_object_size, 1u << 20);
  EXPECT_EQ(d.key.query, cache::KeyPolicy::Query::kAll);
  ASSERT_NE(on.config->cache_store, nullptr) << "a caching rule gets a store";
  EXPECT_EQ(load_rule_extra("").config->cache_store, nullptr) << "no caching rule, no store";
  auto custom = load_rule_extra(
      "        cache: { default_ttl: 1m, min_ttl: 10s, max_ttl: 1h, heuristic: true, "
      "max_object_size: 4MiB, lock_timeout: 2s,\n"
      "                 key: { query: { except: [utm_source] }, headers: [X-Device], cookies: "
      "[lang] } }\n"
      "cache: { memory: 1GiB }\n");
  ASSERT_TRUE(custom.config) << errors_of(custom);
  EXPECT_EQ(custom.config->cache_memory, uint64_t{1} << 30);
  const RuleCacheConfig& c = custom.config->listeners[0].rules[0].cache;
  EXPECT_EQ(c.ttl.default_ttl, 60);
  EXPECT_EQ(c.ttl.min_ttl, 10);
  EXPECT_EQ(c.ttl.max_ttl, 3600);
  EXPECT_TRUE(c.ttl.heuristic);
  EXPECT_EQ(c.max_object_size, 4u << 20);
  EXPECT_EQ(c.lock_timeout_ms, 2000);
  EXPECT_EQ(c.key.query, cache::KeyPolicy::Query::kExcept);
  EXPECT_EQ(c.key.query_names, std::vector<std::string>{"utm_source"});
  EXPECT_EQ(c.key.headers, std::vector<std::string>{"x-device"});
  EXPECT_EQ(c.key.cookies, std::vector<std::string>{"lang"});
  for (auto [extra, message] : std::vector<std::pair<std::string, std::string>>{
           {"        cache: { min_ttl: 1h, max_ttl: 1m }\n", "min_ttl: is longer than max_ttl"},
           {"        cache: { key: { query: some } }\n",
            "expected all, none, { only: [names] } or { except: [names] }"},
           {"        cache: { key: { query: { only: [a], except: [b] } } }\n",
            "expected either only: [names] or except: [names]"},
           {"        cache: { key: { headers: ['bad header'] } }\n",
            "not a valid header field name"},
           {"        cache: { max_object_size: 64MiB }\n",
            "an object may take at most a sixteenth of cache.memory (16777216 bytes)"},
           {"        cache: { ttl: 1m }\n", "ttl"},
       }) {
    std::string errors = errors_of(load_rule_extra(extra));
    EXPECT_NE(errors.find(message), std::string::npos) << extra << errors;
    EXPECT_NE(errors.find("r.yaml:"), std::string::npos) << errors;
  }
  auto disk =
      load_rule_extra("        cache: true\ncache: { disk: { path: store, size: 2GiB } }\n");
  ASSERT_TRUE(disk.config) << errors_of(disk);
  EXPECT_EQ(disk.config->cache_disk_path, "store") << "relative to the file's folder (here none)";
  EXPECT_EQ(disk.config->cache_disk_size, uint64_t{2} << 30);
  EXPECT_NE(errors_of(load_rule_extra("        cache: true\ncache: { disk: { size: 1GiB } }\n"))
                .find("cache.disk.path: required key \"path\" is missing"),
            std::string::npos)
      << errors_of(load_rule_extra("        cache: true\ncache: { disk: { size: 1GiB } }\n"));
  auto fixed = load_config_string(
      "listeners:\n  - name: w\n    bind: 127.0.0.1:1\n    rules:\n"
      "      - fixed_response: { status: 200 }\n        cache: true\n",
      "f.yaml");
  EXPECT_NE(errors_of(fixed).find("f.yaml:6:16: listeners[0].rules[0].cache: applies only to a "
                                  "forward rule"),
            std::string::npos)
      << errors_of(fixed);
}

TEST(ConfigLoaderTest, Fault) {
  auto ok = load_rule_extra(
      "        fault: { id: drill, delay: { duration: 200ms, percent: 12.5 }, abort: { status: 502 "
      "}, reset: { percent: 0.01 } }\n");
  ASSERT_TRUE(ok.config) << errors_of(ok);
  const FaultConfig& f = ok.config->listeners[0].rules[0].fault;
  EXPECT_EQ(f.id, "drill");
  EXPECT_EQ(f.delay_ms, 200);
  EXPECT_EQ(f.settings->delay_share.load(), 125000u);
  EXPECT_EQ(f.settings->abort_status.load(), 502);
  EXPECT_EQ(f.settings->abort_share.load(), core::FaultSettings::kWhole)
      << "percent: 100 by default";
  EXPECT_EQ(f.settings->reset_share.load(), 100u);
  for (auto [extra, message] : std::vector<std::pair<std::string, std::string>>{
           {"        fault: {}\n", "name a delay, an abort or a reset"},
           {"        fault: { abort: { percent: 150 } }\n", "must be a percentage from 0 to 100"},
           {"        fault: { abort: { status: 200 } }\n", "status"},
           {"        fault: { delay: { percent: 5 } }\n", "a delay needs a duration"},
           {"        fault: { id: 'a b', reset: {} }\n", "a name without spaces or slashes"},
       }) {
    std::string errors = errors_of(load_rule_extra(extra));
    EXPECT_NE(errors.find(message), std::string::npos) << extra << errors;
    EXPECT_NE(errors.find("r.yaml:"), std::string::npos) << errors;
  }
}

TEST(ConfigLoaderTest, PortUsedByTwoListeners) {
  auto r = load_config_string(
      "listeners:\n"
      "  - {name: a, bind: 127.0.0.1:8080, rules: [{forward: {target_group: g}}]}\n"
      "  - {name: b, bind: 0.0.0.0:8080, rules: [{forward: {target_group: g}}]}\n"
      "target_groups: [{name: g, targets: [{address: 127.0.0.1:2}]}]\n",
      "ports.yaml");
  EXPECT_FALSE(r.config);
  EXPECT_NE(errors_of(r).find("ports.yaml:3:21: listeners[1].bind: port 8080 is already used by "
                              "listener \"a\""),
            std::string::npos)
      << errors_of(r);
}

// A one-listener file whose listener gets `listener_extra` (lines indented by four spaces).
LoadResult load_listener(const std::string& listener_extra) {
  return load_config_string("listeners:\n  - name: w\n    bind: 127.0.0.1:1\n" + listener_extra +
                                "    rules: [{forward: {target_group: g}}]\n"
                                "target_groups: [{name: g, targets: [{address: 127.0.0.1:2}]}]\n",
                            "l.yaml");
}

TEST(ConfigLoaderTest, Http2) {
  auto r = load_listener("");
  ASSERT_TRUE(r.config) << errors_of(r);
  const h2::Limits& d = r.config->listeners[0].http2.limits;
  EXPECT_TRUE(r.config->listeners[0].http2.enabled);
  EXPECT_EQ(d.max_concurrent_streams, 100u);
  EXPECT_EQ(d.initial_window_size, 65535u);
  EXPECT_EQ(d.connection_window_size, 1024u * 1024);
  EXPECT_EQ(d.max_header_list_size, 65536u);
  EXPECT_EQ(d.max_glitches, 1000u);

  r = load_listener("    http2: false\n");
  ASSERT_TRUE(r.config) << errors_of(r);
  EXPECT_FALSE(r.config->listeners[0].http2.enabled);

  r = load_listener(
      "    http2: { max_concurrent_streams: 32, initial_window_size: 256KiB,\n"
      "             connection_window_size: 4MiB, max_header_list_size: 16KiB, max_glitches: 50 "
      "}\n");
  ASSERT_TRUE(r.config) << errors_of(r);
  const h2::Limits& l = r.config->listeners[0].http2.limits;
  EXPECT_EQ(l.max_concurrent_streams, 32u);
  EXPECT_EQ(l.initial_window_size, 256u * 1024);
  EXPECT_EQ(l.connection_window_size, 4u * 1024 * 1024);
  EXPECT_EQ(l.max_header_list_size, 16u * 1024);
  EXPECT_EQ(l.max_glitches, 50u);

  r = load_listener(
      "    http2: { max_concurrent_streams: 0, initial_window_size: 3GiB, streams: 5 }\n");
  EXPECT_FALSE(r.config);
  std::string e = errors_of(r);
  EXPECT_NE(e.find("l.yaml:4:"), std::string::npos) << e;
  EXPECT_NE(e.find("listeners[0].http2.max_concurrent_streams"), std::string::npos) << e;
  EXPECT_NE(e.find("listeners[0].http2.initial_window_size"), std::string::npos) << e;
  EXPECT_NE(e.find("listeners[0].http2.streams"), std::string::npos) << e;

  r = load_config_string(
      "listeners:\n  - name: db\n    bind: 127.0.0.1:1\n    protocol: tcp\n    http2: false\n"
      "    rules: [{forward: {target_group: g}}]\n"
      "target_groups: [{name: g, targets: [{address: 127.0.0.1:2}]}]\n",
      "tcp.yaml");
  EXPECT_FALSE(r.config);
  EXPECT_NE(errors_of(r).find("tcp.yaml:5:12: listeners[0].http2: a tcp listener relays bytes; "
                              "HTTP/2 is for http listeners"),
            std::string::npos)
      << errors_of(r);
}

TEST(ConfigLoaderTest, CollectsEveryErrorInOnePass) {
  auto r = load_config_string(
      "listeners:\n"
      "  - {name: a, bind: nope, rules: [{forward: {target_group: x}}]}\n"
      "target_groups: [{name: g, algoritm: round_robin, targets: [{address: 127.0.0.1:2}]}]\n",
      "many.yaml");
  EXPECT_FALSE(r.config);
  EXPECT_GE(r.errors.errors().size(), 2u) << errors_of(r);
}

TEST(ConfigLoaderTest, MissingFile) {
  auto r = load_config_file("/nonexistent/ballast.yaml");
  EXPECT_FALSE(r.config);
  EXPECT_NE(errors_of(r).find("/nonexistent/ballast.yaml"), std::string::npos);
  EXPECT_NE(errors_of(r).find("cannot open"), std::string::npos);
}

TEST(ClosestMatchTest, SuggestsOnlyLikelyTypos) {
  EXPECT_EQ(closest_match("tagets", {"targets", "name", "algorithm"}), "targets");
  EXPECT_EQ(closest_match("xyzzy", {"targets", "name", "algorithm"}), "");
}

}  // namespace
}  // namespace ballast::config

namespace ballast::config {
namespace {

TEST(ConfigLoaderTest, AcmeListeners) {
  // Nothing stored there: the listener starts with a stand-in.
  std::string dir = "/nonexistent/ballast-acme";
  auto r = load_listener(
      "    tls:\n      acme:\n        directory: https://ca.test/dir\n"
      "        email: ops@example.test\n        names: [www.example.test, example.test]\n"
      "        storage: " +
      dir + "\n        renew_before: 30d\n");
  ASSERT_TRUE(r.config) << errors_of(r);
  const auto& a = *r.config->listeners[0].tls.acme;
  EXPECT_EQ(a.directory, "https://ca.test/dir");
  EXPECT_EQ(a.email, "ops@example.test");
  EXPECT_EQ(a.names, (std::vector<std::string>{"www.example.test", "example.test"}));
  EXPECT_EQ(a.storage, dir);
  EXPECT_EQ(a.renew_before_s, 30 * 86400);
  EXPECT_EQ(a.challenges, (std::vector<acme::ChallengeType>{acme::ChallengeType::kHttp01,
                                                            acme::ChallengeType::kTlsAlpn01}));
  // Nothing issued yet: a self-signed stand-in lets the listener start.
  ASSERT_TRUE(r.config->listeners[0].tls.context);
  EXPECT_EQ(r.config->listeners[0].tls.context->certificate_for("example.test").names, a.names);

  r = load_listener(
      "    tls:\n      acme:\n        directory: http://ca.test/dir\n"
      "        names: [\"*.example.test\", Upper.test, localhost]\n"
      "        challenges: [dns-01]\n        storage: " +
      dir + "\n");
  EXPECT_FALSE(r.config);
  std::string e = errors_of(r);
  EXPECT_NE(
      e.find("listeners[0].tls.acme.directory: \"http://ca.test/dir\" is not an https:// URL"),
      std::string::npos)
      << e;
  EXPECT_NE(e.find("names[0]: \"*.example.test\": a wildcard name needs the DNS-01 challenge"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("names[1]: \"Upper.test\": a DNS name has lower-case"), std::string::npos) << e;
  EXPECT_NE(e.find("names[2]: \"localhost\": not a fully qualified DNS name"), std::string::npos)
      << e;
  EXPECT_NE(e.find("challenges[0]: unknown challenge \"dns-01\""), std::string::npos) << e;

  r = load_listener("    tls:\n      acme: { names: [a.test] }\n");
  EXPECT_FALSE(r.config);
  EXPECT_NE(errors_of(r).find("listeners[0].tls.acme.directory"), std::string::npos)
      << errors_of(r);
  r = load_listener("    tls: { policy: modern }\n");
  EXPECT_FALSE(r.config);
  EXPECT_NE(errors_of(r).find("or \"acme: { directory: ..., names: [...] }\""), std::string::npos)
      << errors_of(r);
}

}  // namespace
}  // namespace ballast::config
