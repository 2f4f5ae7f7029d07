#include "core/completion.h"

#include <gtest/gtest.h>

namespace ballast::core {
namespace {

TEST(CompletionTest, WaitersRunOnceWhenTheCountReachesZero) {
  Completion c(2);
  int ran = 0;
  c.then([&] { ++ran; });
  c.count_down();
  EXPECT_FALSE(c.done());
  EXPECT_EQ(ran, 0);
  c.count_down();
  EXPECT_TRUE(c.done());
  EXPECT_EQ(ran, 1);
  c.count_down();  // a late report changes nothing
  EXPECT_EQ(ran, 1);
}

TEST(CompletionTest, AWaiterOfSomethingDoneRunsAtOnce) {
  Completion c(0);
  bool ran = false;
  c.then([&] { ran = true; });
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace ballast::core
