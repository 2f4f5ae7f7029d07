#include "core/timer_queue.h"

#include <gtest/gtest.h>

#include <vector>

namespace ballast::core {
namespace {

struct Fired {
  std::vector<int> order;
};
struct Tagged {
  Fired* fired;
  int tag;
  Timer timer{[](void* arg) {
                auto* self = static_cast<Tagged*>(arg);
                self->fired->order.push_back(self->tag);
              },
              this};
};

TEST(TimerQueueTest, FiresInDeadlineOrderAcrossDurations) {
  TimerQueue q;
  Fired fired;
  Tagged a{&fired, 1}, b{&fired, 2}, c{&fired, 3};
  q.arm(a.timer, 300, 0);
  q.arm(b.timer, 100, 0);
  q.arm(c.timer, 300, 50);  // same duration as a, later deadline
  EXPECT_EQ(q.next_timeout_ms(0), 100);
  EXPECT_EQ(q.expire(99), 0u);
  EXPECT_EQ(q.expire(100), 1u);
  EXPECT_EQ(q.expire(349), 1u);
  EXPECT_EQ(q.expire(1000), 1u);
  EXPECT_EQ(fired.order, (std::vector<int>{2, 1, 3}));
  EXPECT_EQ(q.next_timeout_ms(1000), -1);
}

TEST(TimerQueueTest, CancelAndRearm) {
  TimerQueue q;
  Fired fired;
  Tagged a{&fired, 1}, b{&fired, 2};
  q.arm(a.timer, 100, 0);
  q.arm(b.timer, 100, 10);
  a.timer.cancel();
  EXPECT_FALSE(a.timer.armed());
  EXPECT_EQ(q.armed_count(), 1u);
  q.arm(b.timer, 100, 90);  // re-arming moves it to its new deadline
  EXPECT_EQ(q.expire(150), 0u);
  EXPECT_EQ(q.expire(190), 1u);
  EXPECT_EQ(fired.order, (std::vector<int>{2}));
}

TEST(TimerQueueTest, OverdueTimersReportZeroWait) {
  TimerQueue q;
  Fired fired;
  Tagged a{&fired, 1};
  q.arm(a.timer, 5, 0);
  EXPECT_EQ(q.next_timeout_ms(10), 0);
}

TEST(TimerQueueTest, DestroyedTimerLeavesTheQueue) {
  TimerQueue q;
  Fired fired;
  {
    Tagged a{&fired, 1};
    q.arm(a.timer, 5, 0);
  }
  EXPECT_EQ(q.armed_count(), 0u);
  EXPECT_EQ(q.expire(100), 0u);
}

TEST(TimerQueueTest, CallbackMayRearmItsOwnTimer) {
  TimerQueue q;
  struct Repeater {
    TimerQueue* q;
    int count = 0;
    int64_t now = 0;
    Timer timer{[](void* arg) {
                  auto* self = static_cast<Repeater*>(arg);
                  if (++self->count < 3) self->q->arm(self->timer, 10, self->now);
                },
                this};
  } r{&q};
  q.arm(r.timer, 10, 0);
  for (int64_t t = 10; t <= 100; t += 10) {
    r.now = t;
    q.expire(t);
  }
  EXPECT_EQ(r.count, 3);
}

}  // namespace
}  // namespace ballast::core
