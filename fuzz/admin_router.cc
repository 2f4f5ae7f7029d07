// Feeds arbitrary methods and paths to the admin API's router, set up with patterns of the
// shapes the API uses. Checks that every request gets a route, a 404 or a 405 naming the
// methods that path takes, and that parameters hold exactly one non-empty segment.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "admin/router.h"

namespace {

ballast::admin::Router make_router() {
  using namespace ballast::admin;
  Router r;
  auto echo = [](const PathParams&, const AdminRequest&) { return AdminResponse{200, ""}; };
  auto param = [](const char* name) {
    return [name](const PathParams& p, const AdminRequest&) {
      const std::string& v = p[name];
      if (v.empty() || v.find('/') != std::string::npos) __builtin_trap();
      return AdminResponse{200, v};
    };
  };
  r.add("GET", "/api/v1/status", echo);
  r.add("GET", "/api/v1/target-groups/{group}", param("group"));
  r.add("DELETE", "/api/v1/target-groups/{group}/targets/{address}", param("address"));
  r.add("PATCH", "/api/v1/target-groups/{group}/targets/{address}", param("group"));
  r.add("POST", "/api/v1/target-groups/{group}/targets/{address}/drain", param("address"));
  r.add("POST", "/api/v1/autoscaling-groups/{group}/instances/{instance}/protect",
        param("instance"));
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ballast::admin;
  static const Router router = make_router();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t space = in.find(' ');
  AdminRequest request;
  request.method = std::string(in.substr(0, space));
  request.path = space == std::string_view::npos ? "" : std::string(in.substr(space + 1));
  AdminResponse r = router.dispatch(request);
  if (r.status != 200 && r.status != 404 && r.status != 405) __builtin_trap();
  if ((r.status == 405) != !r.allow.empty()) __builtin_trap();
  for (std::string_view segment : split_path(request.path)) {
    if (segment.empty() || segment.find('/') != std::string_view::npos) __builtin_trap();
  }
  return 0;
}
