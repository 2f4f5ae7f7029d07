#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "admin/admin_server.h"
#include "admin/router.h"

namespace ballast::control {

// A JSON answer, pretty-printed (people read the API with curl); sent once `in_effect`
// (when given) completes.
inline admin::AdminResponse ok_json(const nlohmann::json& j, int status = 200,
                                    std::shared_ptr<core::Completion> in_effect = nullptr) {
  admin::AdminResponse r{status, j.dump(2) + "\n"};
  r.in_effect = std::move(in_effect);
  return r;
}

// The request's JSON object body ({} when empty); a 400 when it is not an object.
inline nlohmann::json parse_body(const admin::AdminRequest& r) {
  if (r.body.empty()) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    throw admin::ClientError(400, "the body is not a JSON object");
  return j;
}

}  // namespace ballast::control
