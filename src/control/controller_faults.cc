// The admin API of fault injection: the rules' faults as they stand, and changes to a
// fault by its id, which last until the next reload sets the file's values again.
#include "control/api_support.h"
#include "control/controller.h"
#include "core/log.h"

namespace ballast::control {

using nlohmann::json;

namespace {

json fault_json(const config::ListenerConfig& l, size_t rule, const config::FaultConfig& f) {
  const core::FaultSettings& s = *f.settings;
  return {{"listener", l.name},
          {"rule", rule},
          {"id", f.id},
          {"delay",
           {{"duration_ms", s.delay_ms.load()},
            {"percent", core::FaultSettings::percent_of_share(s.delay_share.load())}}},
          {"abort",
           {{"status", s.abort_status.load()},
            {"percent", core::FaultSettings::percent_of_share(s.abort_share.load())}}},
          {"reset", {{"percent", core::FaultSettings::percent_of_share(s.reset_share.load())}}}};
}

// A share from `part["percent"]` (unchanged when absent); a 400 when it is not 0 to 100.
void set_share(const json& part, const char* what, std::atomic<uint32_t>& share) {
  if (!part.contains("percent")) return;
  const json& p = part["percent"];
  if (!p.is_number() || p.get<double>() < 0 || p.get<double>() > 100)
    throw admin::ClientError(400, std::string(what) + ".percent must be a number from 0 to 100");
  share = core::FaultSettings::share_of_percent(p.get<double>());
}

// A whole number from `part[key]` within [min, max] (unchanged when absent).
template <typename T>
void set_number(const json& part, const char* what, const char* key, int64_t min, int64_t max,
                std::atomic<T>& out) {
  if (!part.contains(key)) return;
  const json& v = part[key];
  if (!v.is_number_integer() || v.get<int64_t>() < min || v.get<int64_t>() > max) {
    throw admin::ClientError(400, std::string(what) + "." + key + " must be a whole number from " +
                                      std::to_string(min) + " to " + std::to_string(max));
  }
  out = static_cast<T>(v.get<int64_t>());
}

void apply_changes(const json& body, core::FaultSettings& s) {
  if (body.contains("delay")) {
    set_number(body["delay"], "delay", "duration_ms", 1, 3600 * 1000, s.delay_ms);
    set_share(body["delay"], "delay", s.delay_share);
  }
  if (body.contains("abort")) {
    set_number(body["abort"], "abort", "status", 400, 599, s.abort_status);
    set_share(body["abort"], "abort", s.abort_share);
  }
  if (body.contains("reset")) set_share(body["reset"], "reset", s.reset_share);
}

// The body's parts checked before anything changes (applied to a scratch copy first), so
// a bad body changes nothing.
void check_body(const json& body) {
  for (const auto& [key, part] : body.items()) {
    if (key != "delay" && key != "abort" && key != "reset")
      throw admin::ClientError(400, "unknown key \"" + key + "\"; expected delay, abort or reset");
    if (!part.is_object()) throw admin::ClientError(400, key + " must be an object");
  }
  core::FaultSettings scratch;
  apply_changes(body, scratch);
}

}  // namespace

void Controller::add_fault_routes() {
  using admin::AdminRequest;
  using admin::PathParams;
  admin::Router& r = router_;
  r.add("GET", "/api/v1/faults", [this](const PathParams&, const AdminRequest&) {
    json list = json::array();
    for (const auto& l : config_->listeners) {
      for (size_t i = 0; i < l.rules.size(); ++i) {
        if (l.rules[i].fault.enabled) list.push_back(fault_json(l, i, l.rules[i].fault));
      }
    }
    return ok_json({{"faults", list}});
  });
  r.add("PUT", "/api/v1/faults/{id}", [this](const PathParams& p, const AdminRequest& request) {
    const std::string& id = p["id"];
    json body = parse_body(request);
    check_body(body);
    json changed = json::array();
    for (const auto& l : config_->listeners) {
      for (size_t i = 0; i < l.rules.size(); ++i) {
        const config::FaultConfig& f = l.rules[i].fault;
        if (!f.enabled || f.id != id) continue;
        apply_changes(body, *f.settings);
        changed.push_back(fault_json(l, i, f));
      }
    }
    if (changed.empty())
      throw admin::ClientError(404, "no rule has a fault with id \"" + id + "\"");
    LOG_INFO("admin: fault \"%s\" set to %s", id.c_str(), body.dump().c_str());
    return ok_json({{"faults", changed}});
  });
}

}  // namespace ballast::control
