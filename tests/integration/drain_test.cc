// Deregistration delay (connection draining): a draining target gets no new requests,
// finishes those in flight, and is removed when they are done or when the delay ends.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/http_client.h"
#include "support/load_loop.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

using nlohmann::json;

TEST(DrainTest, DrainingUnderLoadFailsNothingAndSendsItNothingNew) {
  DemoBackend a("a"), b("b");
  Ballast lb(proxy_config({a.port(), b.port()}, "    algorithm: round_robin\n", "", 2));
  ASSERT_TRUE(lb.ready());
  LoadLoop load(lb.port(), 4);
  ASSERT_TRUE(load.wait_for_more(300));
  ASSERT_GT(load.instances()["b"], 0);
  ASSERT_EQ(admin_call(lb.admin_port(), "DELETE",
                       "/api/v1/target-groups/app/targets/" + loopback(b.port()))
                .status,
            202);
  ASSERT_TRUE(within(10, [&] {
    return target_state(lb.admin_port(), "app", loopback(b.port())) == "absent";
  })) << lb.process().log();
  // b's last answers may still be on their way to the clients: count them first.
  ASSERT_TRUE(load.wait_for_every_client(1));
  int b_after_removal = load.instances()["b"];
  ASSERT_TRUE(load.wait_for_more(500));
  load.stop();
  EXPECT_EQ(load.instances()["b"], b_after_removal)
      << "no new request went to b; answers by instance: "
      << ::testing::PrintToString(load.instances());
  EXPECT_EQ(load.failed(), 0) << load.first_failure() << "\n" << lb.process().log();
}

TEST(DrainTest, ADeregisteredTargetFinishesItsRequestsFirst) {
  DemoBackend a("a"), b("b");
  Ballast lb(proxy_config({b.port()}, "    deregistration_delay: 30s\n"));
  ASSERT_TRUE(lb.ready());
  auto slow = std::async(std::launch::async, [&] { return http_get(lb.port(), "/sleep?ms=1500"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the request is at b
  ASSERT_EQ(admin_call(lb.admin_port(), "POST", "/api/v1/target-groups/app/targets",
                       R"({"address": ")" + loopback(a.port()) + R"("})")
                .status,
            201);
  ASSERT_EQ(admin_call(lb.admin_port(), "DELETE",
                       "/api/v1/target-groups/app/targets/" + loopback(b.port()))
                .status,
            202);
  EXPECT_EQ(target_state(lb.admin_port(), "app", loopback(b.port())), "draining");
  EXPECT_EQ(instances_seen(lb.port(), 5)["a"], 5) << "new requests go elsewhere";
  auto r = slow.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << "the request in flight completed";
  EXPECT_EQ(r->header("x-ballast-instance"), "b");
  // Done long before the 30 s delay: removed as soon as nothing is in flight.
  EXPECT_TRUE(within(5, [&] {
    return target_state(lb.admin_port(), "app", loopback(b.port())) == "absent";
  })) << lb.process().log();
}

TEST(DrainTest, TheDelayBoundsTheWait) {
  DemoBackend b("b");
  Ballast lb(proxy_config({b.port()}, "    deregistration_delay: 500ms\n"));
  ASSERT_TRUE(lb.ready());
  auto slow = std::async(std::launch::async, [&] { return http_get(lb.port(), "/sleep?ms=4000"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(admin_call(lb.admin_port(), "DELETE",
                       "/api/v1/target-groups/app/targets/" + loopback(b.port()))
                .status,
            202);
  ASSERT_TRUE(within(
      10, [&] { return target_state(lb.admin_port(), "app", loopback(b.port())) == "absent"; }));
  EXPECT_EQ(slow.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
      << "removed at the delay, while the 4 s request was still in flight";
  // ballast stops waiting for it, but does not cut the request off.
  auto r = slow.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

}  // namespace
}  // namespace ballast::test
