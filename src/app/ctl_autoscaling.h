#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ballast::app {

// One admin API call that a `ballast ctl` action maps to.
struct CtlCall {
  std::string method;
  std::string path;
  std::string body;
};

// The autoscaling actions of `ballast ctl` (asgs, instances, scale, activities, protect,
// unprotect, refresh, cancel-refresh). nullopt: `args[0]` is not one of them; false:
// the arguments do not fit (`error` says how they should be).
std::optional<bool> autoscaling_call(const std::vector<std::string>& args, CtlCall* call,
                                     std::string* error);
// Prints the answer to an autoscaling read action for people; false when `action` is
// not one (the caller prints JSON).
bool print_autoscaling_reply(const std::string& action, const nlohmann::json& j);

extern const char* kAutoscalingUsage;

}  // namespace ballast::app
