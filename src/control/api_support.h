#pragma once
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "admin/admin_server.h"
#include "admin/router.h"
#include "http/percent.h"

namespace ballast::control {

// A JSON answer, pretty-printed (people read the API with curl); sent once `in_effect`
// (when given) completes.
inline admin::AdminResponse ok_json(const nlohmann::json& j, int status = 200,
                                    std::shared_ptr<core::Completion> in_effect = nullptr) {
  admin::AdminResponse r{status, j.dump(2) + "\n"};
  r.in_effect = std::move(in_effect);
  return r;
}

// A cluster's write while etcd does not answer: nothing was done.
inline admin::AdminResponse etcd_unreachable(const std::string& why) {
  return admin::error_response(503,
                               "etcd is unreachable (" + why +
                                   "); this node serves its last state, and changes wait for etcd");
}

// The request's JSON object body ({} when empty); a 400 when it is not an object.
inline nlohmann::json parse_body(const admin::AdminRequest& r) {
  if (r.body.empty()) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    throw admin::ClientError(400, "the body is not a JSON object");
  return j;
}

// A request's query string as name -> value, both percent-decoded (the last of a repeated
// name wins; a name without "=" has an empty value).
inline std::map<std::string, std::string> query_params(const std::string& query) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    std::string_view pair(query.data() + start, end - start);
    size_t eq = pair.find('=');
    if (!pair.empty()) {
      out[http::percent_decode(pair.substr(0, eq), true)] =
          eq == std::string_view::npos ? "" : http::percent_decode(pair.substr(eq + 1), true);
    }
    start = end + 1;
  }
  return out;
}

}  // namespace ballast::control
