// Access logs: one JSON line (ALB's fields) or common-log line per request, written off
// the request path, escaped against hostile input, and reopened on SIGUSR1.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "support/http_client.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

using nlohmann::json;

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// Waits (bounded) for the 1-second flush to put `n` lines in the file.
std::vector<std::string> wait_lines(const std::string& path, size_t n) {
  for (int i = 0; i < 100; ++i) {
    auto lines = lines_of(path);
    if (lines.size() >= n) return lines;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return lines_of(path);
}

std::string logging_config(const std::vector<uint16_t>& ports, const std::string& path,
                           const std::string& format) {
  std::string listener = "    access_log: { path: " + path + ", format: " + format + " }\n";
  std::string config = proxy_config(ports, "", listener);
  // A second rule answered by ballast itself, before the forward.
  return replace_all(config, "    rules:\n",
                     "    rules:\n      - match: { path: /fixed }\n"
                     "        fixed_response: { status: 418, body: teapot }\n");
}

TEST(AccessLogTest, JsonLinesCarryAlbFields) {
  DemoBackend a("a");
  std::string path = make_temp_dir() + "/access.log";
  Ballast lb(logging_config({a.port()}, path, "json"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_TRUE(http_get(lb.port(), "/?x=1", "User-Agent: tester \"quoted\"\r\n"));
  ASSERT_TRUE(http_get(lb.port(), "/fixed"));
  ASSERT_TRUE(http_get(lb.port(), "/status/503", "X-Request-Id: given-id\r\n"));
  auto lines = wait_lines(path, 3);
  ASSERT_EQ(lines.size(), 3u) << lb.process().log();
  json first = json::parse(lines[0]);
  EXPECT_EQ(first["listener"], "web");
  EXPECT_EQ(first["request"], "GET /?x=1 HTTP/1.1");
  EXPECT_EQ(first["status"], 200);
  EXPECT_EQ(first["target_status"], 200);
  EXPECT_EQ(first["target"], "127.0.0.1:" + std::to_string(a.port()));
  EXPECT_EQ(first["target_group"], "app");
  EXPECT_EQ(first["user_agent"], "tester \"quoted\"");
  EXPECT_EQ(first["rule"], 1);
  EXPECT_EQ(first["request_id"].get<std::string>().size(), 36u);
  EXPECT_GT(first["received_bytes"], 20);
  EXPECT_GT(first["sent_bytes"], 50);
  EXPECT_GE(first["target_processing_time"], 0.0);
  EXPECT_EQ(first["time"].get<std::string>().size(), 24u) << "ISO 8601 with milliseconds";
  EXPECT_EQ(first["client"].get<std::string>().rfind("127.0.0.1:", 0), 0u);

  json fixed = json::parse(lines[1]);
  EXPECT_EQ(fixed["status"], 418);
  EXPECT_TRUE(fixed["target"].is_null());
  EXPECT_TRUE(fixed["target_status"].is_null());
  EXPECT_EQ(fixed["request_processing_time"], -1);
  EXPECT_EQ(fixed["rule"], 0);

  json failed = json::parse(lines[2]);
  EXPECT_EQ(failed["status"], 503);
  EXPECT_EQ(failed["target_status"], 503);
  EXPECT_EQ(failed["request_id"], "given-id");
}

TEST(AccessLogTest, HostileRequestLinesCannotForgeLines) {
  DemoBackend a("a");
  std::string path = make_temp_dir() + "/access.log";
  Ballast lb(logging_config({a.port()}, path, "json"));
  ASSERT_TRUE(lb.ready());
  ASSERT_TRUE(
      http_get(lb.port(), "/?q=a\"b\\c", "User-Agent: x\", \"status\": 999, \"y\": \"\r\n"));
  auto lines = wait_lines(path, 1);
  ASSERT_EQ(lines.size(), 1u);
  json j = json::parse(lines[0]);
  EXPECT_EQ(j["status"], 200) << lines[0];
  EXPECT_EQ(j["request"], "GET /?q=a\"b\\c HTTP/1.1");
}

TEST(AccessLogTest, CommonLogFormat) {
  DemoBackend a("a");
  std::string path = make_temp_dir() + "/access.log";
  Ballast lb(logging_config({a.port()}, path, "combined"));
  ASSERT_TRUE(lb.ready());
  ASSERT_TRUE(http_get(lb.port(), "/", "User-Agent: curl/8\r\n"));
  auto lines = wait_lines(path, 1);
  ASSERT_EQ(lines.size(), 1u);
  std::regex clf(
      R"(^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET / HTTP/1\.1" 200 \d+ "-" "curl/8"$)");
  EXPECT_TRUE(std::regex_match(lines[0], clf)) << lines[0];
}

TEST(AccessLogTest, Sigusr1ReopensTheFileForLogrotate) {
  DemoBackend a("a");
  std::string dir = make_temp_dir();
  std::string path = dir + "/access.log";
  Ballast lb(logging_config({a.port()}, path, "json"));
  ASSERT_TRUE(lb.ready());
  ASSERT_TRUE(http_get(lb.port(), "/?before"));
  ASSERT_EQ(wait_lines(path, 1).size(), 1u);
  ASSERT_EQ(std::rename(path.c_str(), (dir + "/access.log.1").c_str()), 0);
  lb.process().signal(SIGUSR1);
  for (int i = 0; i < 100 && lb.process().log().find("reopened 1 access log") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(http_get(lb.port(), "/?after"));
  auto fresh = wait_lines(path, 1);
  ASSERT_EQ(fresh.size(), 1u) << lb.process().log();
  EXPECT_NE(fresh[0].find("/?after"), std::string::npos);
  auto rotated = lines_of(dir + "/access.log.1");
  ASSERT_EQ(rotated.size(), 1u);
  EXPECT_NE(rotated[0].find("/?before"), std::string::npos);
}

}  // namespace
}  // namespace ballast::test
