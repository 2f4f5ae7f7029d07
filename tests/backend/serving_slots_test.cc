#include "backend/serving_slots.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/thread_annotations.h"
#include "support/test_env.h"

namespace ballast::backend {
namespace {

// Claims made from the test thread, granted on a loop thread: the grants in order.
class SlotsOnALoop {
 public:
  explicit SlotsOnALoop(unsigned slots) : slots_(slots) {
    thread_ = std::thread([this] { loop_.run(); });
  }
  ~SlotsOnALoop() {
    claims_.clear();
    loop_.stop();
    thread_.join();
  }
  void claim(const std::string& name) {
    claims_[name] = slots_.claim(loop_, [this, name] {
      core::MutexLock lock(mu_);
      granted_.push_back(name);
    });
  }
  void drop(const std::string& name) { claims_.erase(name); }
  std::vector<std::string> granted() {
    core::MutexLock lock(mu_);
    return granted_;
  }
  bool granted_count_is(size_t n) {
    return test::within(5, [&] { return granted().size() == n; });
  }

 private:
  core::EventLoop loop_;
  ServingSlots slots_;
  std::map<std::string, std::unique_ptr<ServingSlots::Claim>> claims_;
  core::Mutex mu_;
  std::vector<std::string> granted_ GUARDED_BY(mu_);
  std::thread thread_;
};

TEST(ServingSlotsTest, RequestsTakeFreeSlotsThenQueueFirstComeFirstServed) {
  SlotsOnALoop s(2);
  s.claim("a");
  s.claim("b");
  s.claim("c");
  s.claim("d");
  ASSERT_TRUE(s.granted_count_is(2));
  EXPECT_EQ(s.granted(), (std::vector<std::string>{"a", "b"})) << "two slots, two requests";
  s.drop("a");  // a's work is done: the first in the queue gets its slot
  ASSERT_TRUE(s.granted_count_is(3));
  EXPECT_EQ(s.granted().back(), "c");
  s.drop("d");  // d gave up while waiting: it leaves the queue
  s.drop("b");
  s.claim("e");
  ASSERT_TRUE(s.granted_count_is(4));
  EXPECT_EQ(s.granted().back(), "e") << "b's slot was free again, not handed to d";
  s.drop("c");
  s.drop("e");
  s.claim("f");
  s.claim("g");
  s.claim("h");
  ASSERT_TRUE(s.granted_count_is(6));
  EXPECT_EQ(s.granted()[4], "f");
  EXPECT_EQ(s.granted()[5], "g");
}

}  // namespace
}  // namespace ballast::backend
