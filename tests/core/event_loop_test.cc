#include "core/event_loop.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace ballast::core {
namespace {

// Counts its calls; asks to be resumed until it has run `turns` times, then stops the loop.
struct Yielder : IoHandler {
  EventLoop* loop;
  int turns;
  int calls = 0;
  uint32_t last_events = 0xffffffff;
  void on_io(uint32_t events) override {
    ++calls;
    last_events = events;
    if (calls < turns)
      loop->resume_soon(this);
    else
      loop->stop();
  }
};

TEST(EventLoopTest, ResumeSoonRunsAgainWithoutANewEvent) {
  EventLoop loop;
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  Yielder y;
  y.loop = &loop;
  y.turns = 5;
  // Edge-triggered: the socket is writable once, so only one real event arrives.
  ASSERT_TRUE(loop.add(fds[0], &y));
  loop.run();
  EXPECT_EQ(y.calls, 5);
  EXPECT_EQ(y.last_events, 0u) << "resumed calls carry no events";
  loop.remove(fds[0]);
  close(fds[0]);
  close(fds[1]);
}

TEST(EventLoopTest, PostRunsOnTheLoopThread) {
  EventLoop loop;
  std::thread::id ran_on;
  std::thread t([&] {
    loop.post([&] {
      ran_on = std::this_thread::get_id();
      loop.stop();
    });
  });
  loop.run();
  t.join();
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(EventLoopTest, TimersFire) {
  EventLoop loop;
  struct Stopper {
    EventLoop* loop;
    Timer timer{[](void* arg) { static_cast<Stopper*>(arg)->loop->stop(); }, this};
  } s{&loop};
  loop.update_time();
  loop.timers().arm(s.timer, 10, loop.now_ms());
  loop.run();
  EXPECT_FALSE(s.timer.armed());
}

}  // namespace
}  // namespace ballast::core
