// `ballast check -c FILE`: validates without starting anything.
#include <gtest/gtest.h>

#include "support/process.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

struct CheckRun {
  int exit_code;
  std::string output;
};

CheckRun check(const std::string& yaml) {
  std::string dir = make_temp_dir();
  write_file(dir + "/ballast.yaml", yaml);
  Process p({BALLAST_BINARY, "check", "-c", dir + "/ballast.yaml"}, dir + "/check.log");
  int code = p.wait_exit(20000);
  return {code, replace_all(p.log(), dir + "/", "")};
}

const char* kValid = R"(listeners:
  - name: web
    bind: 127.0.0.1:18080
    rules:
      - forward: { target_group: app }
target_groups:
  - name: app
    targets:
      - { address: 127.0.0.1:19001 }
)";

TEST(CheckCommandTest, TheShippedExamplesAreValid) {
  std::string dir = make_temp_dir();
  Process p({BALLAST_BINARY, "check", "-c",
             std::string(BALLAST_SOURCE_DIR) + "/examples/quickstart.yaml"},
            dir + "/check.log");
  EXPECT_EQ(p.wait_exit(20000), 0) << p.log();
}

TEST(CheckCommandTest, ValidFileExitsZeroAndBindsNothing) {
  auto r = check(kValid);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("ballast.yaml: configuration is valid"), std::string::npos) << r.output;
  EXPECT_FALSE(wait_for_port(18080, 100)) << "check must not start a listener";
}

TEST(CheckCommandTest, ErrorsNameFileLineColumnPathAndProblem) {
  auto r = check(R"(listeners:
  - name: web
    bind: 127.0.0.1:18080
    idle_timeot: 5s
    rules:
      - forward: { target_group: ap }
  - name: web
    bind: 127.0.0.1:18080
    rules:
      - forward: { target_group: app }
target_groups:
  - name: app
    connect_timeout: 5
    targets:
      - { address: 127.0.0.1:19001 }
  - name: other
    targets:
      - { address: "localhost:port" }
)");
  EXPECT_NE(r.exit_code, 0);
  for (const char* expected : {
           "ballast.yaml:4:5: listeners[0].idle_timeot: unknown key \"idle_timeot\"; did you mean "
           "\"idle_timeout\"?",
           "ballast.yaml:6:34: listeners[0].rules[0].forward.target_group: target group \"ap\" "
           "does "
           "not exist; did you mean \"app\"?",
           "listeners[1].name: duplicate listener name \"web\"",
           "ballast.yaml:8:11: listeners[1].bind: port 18080 is already used by listener",
           "ballast.yaml:13:22: target_groups[0].connect_timeout: invalid duration \"5\"",
           "ballast.yaml:18:20: target_groups[1].targets[0].address: invalid address",
       }) {
    EXPECT_NE(r.output.find(expected), std::string::npos) << expected << "\n--- output:\n"
                                                          << r.output;
  }
}

TEST(CheckCommandTest, YamlSyntaxErrorHasAPosition) {
  auto r = check("listeners:\n  - name: [web\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("ballast.yaml:"), std::string::npos) << r.output;
}

TEST(CheckCommandTest, MissingFile) {
  std::string dir = make_temp_dir();
  Process p({BALLAST_BINARY, "check", "-c", dir + "/absent.yaml"}, dir + "/check.log");
  EXPECT_NE(p.wait_exit(20000), 0);
  EXPECT_NE(p.log().find("absent.yaml"), std::string::npos) << p.log();
}

TEST(CheckCommandTest, RunRefusesAnInvalidFileWithTheSameErrors) {
  std::string dir = make_temp_dir();
  write_file(dir + "/bad.yaml", "listeners: []\nworkerz: 2\n");
  Process p({BALLAST_BINARY, "run", "-c", dir + "/bad.yaml"}, dir + "/run.log");
  EXPECT_NE(p.wait_exit(20000), 0);
  EXPECT_NE(
      p.log().find("bad.yaml:2:1: workerz: unknown key \"workerz\"; did you mean \"workers\"?"),
      std::string::npos)
      << p.log();
}

}  // namespace
}  // namespace ballast::test
