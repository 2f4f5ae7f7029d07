#include "admin/admin_server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "core/completion.h"
#include "support/test_env.h"

namespace ballast::admin {
namespace {

// An admin server on its own loop thread whose every answer is 202 and waits for `change`.
class ServerWithPendingChange {
 public:
  explicit ServerWithPendingChange(std::shared_ptr<core::Completion> change)
      : server_(loop_, [this, change](const AdminRequest&) {
          handled_ = true;
          AdminResponse r(202, "{}\n");
          r.in_effect = change;
          return r;
        }) {
    std::string error;
    auto bind = core::SocketAddress::parse("127.0.0.1:0", &error, false);
    EXPECT_TRUE(server_.open(*bind, &error)) << error;
    thread_ = std::thread([this] { loop_.run(); });
  }
  ~ServerWithPendingChange() {
    loop_.post([this] { server_.close(); });
    loop_.stop();
    thread_.join();
  }
  uint16_t port() const { return server_.address().port(); }
  core::EventLoop& loop() { return loop_; }
  AdminServer& server() { return server_; }
  bool handled() const { return handled_; }

 private:
  core::EventLoop loop_;
  std::atomic<bool> handled_{false};
  AdminServer server_;
  std::thread thread_;
};

int send_request(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = test::loopback_sockaddr(port);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::string request = "DELETE /api/v1/thing HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  return fd;
}

bool answered_within(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, ms) == 1;
}

std::string status_line(int fd) {
  char buf[256];
  ssize_t n = recv(fd, buf, sizeof(buf), 0);
  std::string text(buf, n > 0 ? static_cast<size_t>(n) : 0);
  return text.substr(0, text.find("\r\n"));
}

TEST(AdminServerTest, TheAnswerWaitsUntilItsChangeIsInEffect) {
  auto change = std::make_shared<core::Completion>(2);  // two workers to apply it
  ServerWithPendingChange s(change);
  int fd = send_request(s.port());
  ASSERT_TRUE(test::within(5, [&] { return s.handled(); }));
  s.loop().post([change] { change->count_down(); });
  EXPECT_FALSE(answered_within(fd, 300)) << "one worker has not applied the change yet";
  s.loop().post([change] { change->count_down(); });
  ASSERT_TRUE(answered_within(fd, 5000));
  EXPECT_EQ(status_line(fd), "HTTP/1.1 202 Accepted");
  close(fd);
}

TEST(AdminServerTest, AChangeThatNeverTakesEffectIsStillAnsweredAfterAWhile) {
  ServerWithPendingChange s(std::make_shared<core::Completion>(1));
  int fd = send_request(s.port());
  ASSERT_TRUE(answered_within(fd, 8000)) << "bounded wait";
  EXPECT_EQ(status_line(fd), "HTTP/1.1 202 Accepted");
  close(fd);
}

// Under the sanitizer pass of `make test`, touching the freed connection fails this test.
TEST(AdminServerTest, AChangeTakingEffectAfterItsConnectionIsGoneTouchesNothing) {
  auto change = std::make_shared<core::Completion>(1);
  ServerWithPendingChange s(change);
  int fd = send_request(s.port());
  ASSERT_TRUE(test::within(5, [&] { return s.handled(); }));
  std::atomic<bool> done{false};
  s.loop().post([&] {
    s.server().close();  // frees the waiting connection
    change->count_down();
    done = true;
  });
  EXPECT_TRUE(test::within(5, [&] { return done.load(); }));
  close(fd);
}

// An answer given later (an etcd write's outcome): the handler returns at once.
class ServerWithLaterAnswers {
 public:
  ServerWithLaterAnswers()
      : server_(loop_, [this](const AdminRequest&) {
          AdminResponse r;
          r.later = std::make_shared<LaterAnswer>();
          later_ = r.later;
          return r;
        }) {
    std::string error;
    auto bind = core::SocketAddress::parse("127.0.0.1:0", &error, false);
    EXPECT_TRUE(server_.open(*bind, &error)) << error;
    thread_ = std::thread([this] { loop_.run(); });
  }
  ~ServerWithLaterAnswers() {
    loop_.post([this] { server_.close(); });
    loop_.stop();
    thread_.join();
  }
  uint16_t port() const { return server_.address().port(); }
  core::EventLoop& loop() { return loop_; }
  // Read on the loop's thread only.
  std::shared_ptr<LaterAnswer> later() const { return later_; }
  AdminServer& server() { return server_; }

 private:
  core::EventLoop loop_;
  std::shared_ptr<LaterAnswer> later_;
  AdminServer server_;
  std::thread thread_;
};

TEST(AdminServerTest, ALaterAnswerIsSentWhenGiven) {
  ServerWithLaterAnswers s;
  int fd = send_request(s.port());
  EXPECT_FALSE(answered_within(fd, 300));
  s.loop().post([&] { s.later()->give(AdminResponse(409, "{}\n")); });
  ASSERT_TRUE(answered_within(fd, 5000));
  EXPECT_EQ(status_line(fd), "HTTP/1.1 409 Conflict");
  close(fd);
}

TEST(AdminServerTest, ALaterAnswerGivenAfterItsConnectionIsGoneTouchesNothing) {
  ServerWithLaterAnswers s;
  int fd = send_request(s.port());
  std::atomic<bool> handled{false};
  ASSERT_TRUE(test::within(5, [&] {
    s.loop().post([&] { handled = s.later() != nullptr; });
    return handled.load();
  }));
  std::atomic<bool> done{false};
  s.loop().post([&] {
    s.server().close();
    s.later()->give(AdminResponse(200, "{}\n"));
    done = true;
  });
  EXPECT_TRUE(test::within(5, [&] { return done.load(); }));
  close(fd);
}

}  // namespace
}  // namespace ballast::admin
