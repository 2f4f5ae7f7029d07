#include "admin/router.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>

#include "core/event_loop.h"
#include "support/http_client.h"

namespace ballast::admin {
namespace {

AdminRequest request(std::string method, std::string path) {
  return AdminRequest{std::move(method), std::move(path), "", ""};
}

Router sample_router() {
  Router r;
  r.add("GET", "/api/v1/groups", [](const PathParams&, const AdminRequest&) {
    return AdminResponse{200, "list"};
  });
  r.add("GET", "/api/v1/groups/{group}", [](const PathParams& p, const AdminRequest&) {
    return AdminResponse{200, "group " + p["group"]};
  });
  r.add("DELETE", "/api/v1/groups/{group}/targets/{address}",
        [](const PathParams& p, const AdminRequest&) {
          return AdminResponse{202, p["group"] + " " + p["address"]};
        });
  r.add("PATCH", "/api/v1/groups/{group}/targets/{address}",
        [](const PathParams&, const AdminRequest&) {
          return AdminResponse{200, "patched"};
        });
  return r;
}

TEST(AdminRouterTest, PatternsMatchWholeSegmentsAndNameTheirParameters) {
  Router r = sample_router();
  EXPECT_EQ(r.dispatch(request("GET", "/api/v1/groups")).body, "list");
  EXPECT_EQ(r.dispatch(request("GET", "/api/v1/groups/app")).body, "group app");
  EXPECT_EQ(r.dispatch(request("GET", "/api/v1/groups/app/")).body, "group app")
      << "a trailing slash is the same path";
  AdminResponse del = r.dispatch(request("DELETE", "/api/v1/groups/app/targets/[::1]:8080"));
  EXPECT_EQ(del.status, 202);
  EXPECT_EQ(del.body, "app [::1]:8080");
  EXPECT_EQ(r.dispatch(request("GET", "/api/v1/groupsx")).status, 404);
  EXPECT_EQ(r.dispatch(request("GET", "/api/v1/groups/app/extra")).status, 404);
}

TEST(AdminRouterTest, AKnownPathWithAnotherMethodIs405NamingTheAllowedOnes) {
  Router r = sample_router();
  AdminResponse put = r.dispatch(request("PUT", "/api/v1/groups/app/targets/1.2.3.4:80"));
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.allow, "DELETE, PATCH");
  EXPECT_NE(put.body.find("PUT is not allowed on /api/v1/groups/app/targets/1.2.3.4:80 (use "
                          "DELETE, PATCH)"),
            std::string::npos)
      << put.body;
  AdminResponse none = r.dispatch(request("GET", "/nothing"));
  EXPECT_EQ(none.status, 404);
  EXPECT_NE(none.body.find("the API is under /api/v1/"), std::string::npos) << none.body;
}

TEST(AdminRouterTest, AParameterARouteDoesNotHaveIsABug) {
  PathParams p;
  p.add("group", "app");
  EXPECT_EQ(p["group"], "app");
  EXPECT_THROW((void)p["nope"], std::logic_error);
}

// The one place errors become statuses: a client's mistake keeps its status; anything else
// is a 500 (and a log line), never a 4xx that blames the client.
TEST(AdminRouterTest, TheServerMapsClientErrorsToTheirStatusAndTheRestTo500) {
  core::EventLoop loop;
  AdminServer server(loop, [](const AdminRequest& r) -> AdminResponse {
    if (r.path == "/conflict") throw ClientError(409, "somebody else changed it");
    if (r.path == "/bug") throw std::out_of_range("vector index 7 of 3");
    return AdminResponse{200, "fine"};
  });
  std::string error;
  auto bind = core::SocketAddress::parse("127.0.0.1:0", &error, false);
  ASSERT_TRUE(server.open(*bind, &error)) << error;
  std::thread thread([&] { loop.run(); });
  uint16_t port = server.address().port();
  auto conflict = test::http_get(port, "/conflict");
  auto bug = test::http_get(port, "/bug");
  auto fine = test::http_get(port, "/fine");
  loop.post([&] { server.close(); });
  loop.stop();
  thread.join();
  ASSERT_TRUE(conflict && bug && fine);
  EXPECT_EQ(conflict->status, 409);
  EXPECT_NE(conflict->body.find("somebody else changed it"), std::string::npos);
  EXPECT_EQ(bug->status, 500);
  EXPECT_NE(bug->body.find("internal error: vector index 7 of 3"), std::string::npos) << bug->body;
  EXPECT_EQ(fine->status, 200);
}

}  // namespace
}  // namespace ballast::admin
