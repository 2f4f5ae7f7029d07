// Graceful shutdown: SIGTERM lets in-flight requests finish, then ballast exits 0.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "support/http_client.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

TEST(LifecycleTest, SigtermFinishesInFlightRequestsThenExitsZero) {
  DemoBackend backend;
  Ballast lb(proxy_config({backend.port()}, "", "", /*workers=*/2));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  // An idle keep-alive connection: closed at shutdown, not waited for.
  Client idle(lb.port());
  ASSERT_TRUE(idle.send_raw("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(idle.read_response());

  constexpr int kSlow = 8;
  std::vector<std::future<int>> results;
  for (int i = 0; i < kSlow; ++i) {
    results.push_back(std::async(std::launch::async, [&lb] {
      auto r = http_get(lb.port(), "/sleep?ms=1500");
      return r ? r->status : -1;
    }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // requests are in flight
  lb.process().signal(SIGTERM);
  for (auto& f : results) EXPECT_EQ(f.get(), 200);
  EXPECT_EQ(lb.process().wait_exit(10000), 0) << lb.process().log();
  bool closed = false;
  idle.read_until_close(&closed);
  EXPECT_TRUE(closed);
  // Not accepting any more.
  EXPECT_FALSE(http_get(lb.port(), "/health"));
}

TEST(LifecycleTest, ShutdownTimeoutBoundsTheWait) {
  DemoBackend backend;
  std::string yaml = replace_all(proxy_config({backend.port()}), "shutdown_timeout: 10s",
                                 "shutdown_timeout: 500ms");
  Ballast lb(yaml);
  ASSERT_TRUE(lb.ready());
  auto slow =
      std::async(std::launch::async, [&lb] { return http_get(lb.port(), "/sleep?ms=20000"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  lb.process().signal(SIGTERM);
  EXPECT_EQ(lb.process().wait_exit(5000), 0);
  EXPECT_FALSE(slow.get());  // cut off when shutdown_timeout passed
}

TEST(LifecycleTest, RunRefusesAnInvalidConfiguration) {
  std::string dir = make_temp_dir();
  write_file(dir + "/bad.yaml", "listeners: []\n");
  Process p({BALLAST_BINARY, "run", "-c", dir + "/bad.yaml"}, dir + "/out.log");
  EXPECT_EQ(p.wait_exit(5000), 1);
  EXPECT_NE(p.log().find("no listeners"), std::string::npos) << p.log();
}

TEST(LifecycleTest, PortInUseIsReportedAndExitsNonZero) {
  // A socket without SO_REUSEPORT holds the port, so ballast cannot share it.
  int holder = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(holder, 1), 0);
  socklen_t len = sizeof(addr);
  getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string yaml =
      replace_all(proxy_config({1}), "${PORT}", std::to_string(ntohs(addr.sin_port)));
  std::string dir = make_temp_dir();
  write_file(dir + "/c.yaml", yaml);
  Process p({BALLAST_BINARY, "run", "-c", dir + "/c.yaml"}, dir + "/out.log");
  EXPECT_EQ(p.wait_exit(10000), 1) << p.log();
  EXPECT_NE(p.log().find("cannot bind 127.0.0.1:" + std::to_string(ntohs(addr.sin_port))),
            std::string::npos)
      << p.log();
  close(holder);
}

TEST(LifecycleTest, RunningOutOfDescriptorsPausesAcceptingAndRecovers) {
#if defined(__SANITIZE_ADDRESS__)
  // UBSan's vptr check tests whether memory is readable by writing it to a pipe; with
  // every descriptor in use that pipe cannot be created and it reports a false error.
  GTEST_SKIP() << "needs free descriptors for the sanitizer runtime itself";
#endif
  DemoBackend backend;
  uint16_t port = free_port();
  std::string dir = make_temp_dir();
  write_file(dir + "/c.yaml",
             replace_all(proxy_config({backend.port()}), "${PORT}", std::to_string(port)));
  // A hard limit of 40 descriptors: a few dozen clients exhaust it.
  Process lb({"/usr/bin/prlimit", "--nofile=40:40", BALLAST_BINARY, "run", "-c", dir + "/c.yaml"},
             dir + "/out.log");
  ASSERT_TRUE(wait_for_port(port)) << lb.log();
  {
    std::vector<std::unique_ptr<Client>> hogs;
    for (int i = 0; i < 60; ++i) hogs.push_back(std::make_unique<Client>(port, 2000));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_TRUE(lb.running());
  }  // the hogs close
  // Accepting resumes: the connections still in the backlog are served, then new ones.
  std::optional<Response> r;
  for (int attempt = 0; attempt < 50 && !r; ++attempt) {
    r = http_get(port, "/health");
    if (!r) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(r) << lb.log();
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(lb.log().find("pausing accepts"), std::string::npos) << lb.log();
}

}  // namespace
}  // namespace ballast::test
