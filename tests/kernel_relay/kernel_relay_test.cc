#include "kernel_relay/kernel_relay.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

namespace ballast::kernel_relay {
namespace {

// A connected pair of loopback TCP sockets: `outer` is the far end (a client or a server),
// `inner` the relay's end.
struct Link {
  int outer = -1;
  int inner = -1;
  ~Link() {
    if (outer >= 0) ::close(outer);
    if (inner >= 0) ::close(inner);
  }
};

void connect_link(Link& link) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  link.outer = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(::connect(link.outer, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  link.inner = ::accept(listener, nullptr, nullptr);
  ::close(listener);
  ASSERT_GE(link.inner, 0);
  ::fcntl(link.inner, F_SETFL, O_NONBLOCK);
}

void send_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    ASSERT_GT(n, 0) << strerror(errno);
    done += static_cast<size_t>(n);
  }
}

// Reads until `want` bytes came or 5 s passed without any.
std::string receive(int fd, size_t want) {
  std::string got;
  char buf[65536];
  while (got.size() < want) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) break;
    ssize_t n = ::recv(fd, buf, std::min(sizeof(buf), want - got.size()), MSG_DONTWAIT);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

std::string pattern(size_t n, char first) {
  std::string s(n, ' ');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(first + static_cast<char>(i % 26));
  return s;
}

class KernelRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    relay_ = KernelRelay::load(&why);
    // The project's machines allow BPF; a kernel that refuses it fails here, visibly.
    ASSERT_NE(relay_, nullptr) << why;
    connect_link(client_);
    connect_link(server_);
  }

  void join(uint64_t budget) {
    std::string why;
    ASSERT_TRUE(relay_->join(client_.inner, server_.inner, budget, 0, &joined_, &why)) << why;
    ASSERT_TRUE(joined_.a_in);
    ASSERT_TRUE(joined_.b_in);
  }

  KernelRelay::Tally tally(uint64_t cookie) {
    KernelRelay::Tally t;
    EXPECT_TRUE(relay_->tally(cookie, &t));
    return t;
  }

  std::unique_ptr<KernelRelay> relay_;
  Link client_;
  Link server_;
  KernelRelay::Joined joined_;
};

TEST_F(KernelRelayTest, ForwardsBothWaysIncludingBytesQueuedBeforeTheJoin) {
  send_all(client_.outer, "startup");  // waits in the relay's socket: nothing reads it
  join(1 << 20);
  EXPECT_EQ(receive(server_.outer, 7), "startup");
  send_all(client_.outer, "query");
  EXPECT_EQ(receive(server_.outer, 5), "query");
  send_all(server_.outer, "answer");
  EXPECT_EQ(receive(client_.outer, 6), "answer");
  EXPECT_EQ(tally(joined_.cookie_a).forwarded, 12u);
  EXPECT_EQ(tally(joined_.cookie_b).forwarded, 6u);
  EXPECT_FALSE(tally(joined_.cookie_a).passing);
  // What the server's socket took is what the program forwarded to it.
  const uint64_t base = bytes_taken(server_.inner);
  send_all(client_.outer, "more");
  EXPECT_EQ(receive(server_.outer, 4), "more");
  EXPECT_EQ(bytes_taken(server_.inner), base + 4);
  // Nothing was left for user space to read.
  char byte;
  EXPECT_EQ(::recv(client_.inner, &byte, 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
  relay_->leave(joined_.cookie_a);
  relay_->leave(joined_.cookie_b);
  KernelRelay::Tally gone;
  EXPECT_FALSE(relay_->tally(joined_.cookie_a, &gone));
}

void record_cookie(void* context, uint64_t cookie) {
  static_cast<std::vector<uint64_t>*>(context)->push_back(cookie);
}

TEST_F(KernelRelayTest, PastItsBudgetASocketsBytesStayForUserSpaceInOrder) {
  std::vector<uint64_t> notices;
  std::string why;
  auto ring = relay_->open_notices(0, &record_cookie, &notices, &why);
  ASSERT_NE(ring, nullptr) << why;
  join(100);
  const std::string first = pattern(60, 'a');
  send_all(server_.outer, first);
  EXPECT_EQ(receive(client_.outer, first.size()), first);
  // 60 + 1000 is over the budget of 100: these stay in the relay's socket, whole.
  const std::string second = pattern(1000, 'k');
  send_all(server_.outer, second);
  EXPECT_EQ(receive(server_.inner, second.size()), second);
  EXPECT_TRUE(tally(joined_.cookie_b).passing);
  EXPECT_EQ(tally(joined_.cookie_b).forwarded, 60u);
  // The worker's ring heard of it, once.
  pollfd p{ring->fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  ring->consume();
  EXPECT_EQ(notices, std::vector<uint64_t>{joined_.cookie_b});
  // From now on every byte of that socket stays, even within the (raised) budget.
  ASSERT_TRUE(relay_->set_budget(joined_.cookie_b, joined_.cookie_a, 0, 1 << 20));
  send_all(server_.outer, "x");
  EXPECT_EQ(receive(server_.inner, 1), "x");
  // The other direction is unaffected.
  send_all(client_.outer, "still forwarded");
  EXPECT_EQ(receive(server_.outer, 15), "still forwarded");
}

TEST_F(KernelRelayTest, AHangUpIsLeftToUserSpaceAndThePeerKeepsSending) {
  join(1 << 20);
  send_all(client_.outer, "last words");
  ::shutdown(client_.outer, SHUT_WR);
  EXPECT_EQ(receive(server_.outer, 10), "last words");
  // The relay's socket reads the end; the FIN was not sent on as an error to the peer.
  pollfd p{client_.inner, POLLRDHUP, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  char byte;
  EXPECT_EQ(::recv(client_.inner, &byte, 1, MSG_DONTWAIT), 0);
  int error = 0;
  socklen_t len = sizeof(error);
  ::getsockopt(server_.inner, SOL_SOCKET, SO_ERROR, &error, &len);
  EXPECT_EQ(error, 0) << strerror(error);
  // The answer still flows back.
  send_all(server_.outer, "reply");
  EXPECT_EQ(receive(client_.outer, 5), "reply");
}

TEST_F(KernelRelayTest, ASocketThatAlreadyHalfClosedStaysOutAndLeavesNothingBehind) {
  send_all(client_.outer, "bye");
  ::shutdown(client_.outer, SHUT_WR);  // the relay's socket is past ESTABLISHED now
  pollfd p{client_.inner, POLLRDHUP, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  std::string why;
  EXPECT_FALSE(relay_->join(client_.inner, server_.inner, 1 << 20, 0, &joined_, &why));
  EXPECT_NE(why.find("the relay's socket map"), std::string::npos) << why;
  KernelRelay::Tally gone;
  EXPECT_FALSE(relay_->tally(joined_.cookie_a, &gone));
  EXPECT_FALSE(relay_->tally(joined_.cookie_b, &gone));
  // Its bytes are where they were, for ballast's own relay.
  EXPECT_EQ(receive(client_.inner, 3), "bye");
}

TEST_F(KernelRelayTest, ABudgetRaisedInTimeKeepsABulkFlowInTheKernel) {
  join(64 * 1024);
  const std::string bulk = pattern(1 << 20, 'a');
  // Raise the budget as the server's socket takes the bytes, as TcpSession does.
  const uint64_t base = bytes_taken(server_.inner);
  std::string got;
  size_t sent = 0;
  for (int round = 0; round < 10000 && got.size() < bulk.size(); ++round) {
    if (sent < bulk.size()) {
      size_t n = std::min<size_t>(16 * 1024, bulk.size() - sent);
      send_all(client_.outer, bulk.substr(sent, n));
      sent += n;
    }
    got += receive(server_.outer, std::min<size_t>(16 * 1024, sent - got.size()));
    relay_->set_budget(joined_.cookie_a, joined_.cookie_b, 0,
                       bytes_taken(server_.inner) - base + 64 * 1024);
  }
  EXPECT_EQ(got.size(), bulk.size());
  EXPECT_TRUE(got == bulk);
  EXPECT_FALSE(tally(joined_.cookie_a).passing);
  EXPECT_EQ(tally(joined_.cookie_a).forwarded, bulk.size());
}

}  // namespace
}  // namespace ballast::kernel_relay
