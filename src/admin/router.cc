#include "admin/router.h"

namespace ballast::admin {

const std::string& PathParams::operator[](std::string_view name) const {
  for (const auto& [n, v] : values_) {
    if (n == name) return v;
  }
  throw std::logic_error("route has no parameter {" + std::string(name) + "}");
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view segment = path.substr(0, slash);
    if (!segment.empty()) out.push_back(segment);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

void Router::add(std::string method, std::string_view pattern, Handler handler) {
  Route route{std::move(method), {}, std::move(handler)};
  for (std::string_view s : split_path(pattern)) {
    bool parameter = s.size() > 2 && s.front() == '{' && s.back() == '}';
    route.segments.push_back(
        Segment{std::string(parameter ? s.substr(1, s.size() - 2) : s), parameter});
  }
  routes_.push_back(std::move(route));
}

bool Router::matches(const Route& route, const std::vector<std::string_view>& segments,
                     PathParams* params) {
  if (route.segments.size() != segments.size()) return false;
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& s = route.segments[i];
    if (s.parameter) {
      params->add(s.text, std::string(segments[i]));
    } else if (s.text != segments[i]) {
      return false;
    }
  }
  return true;
}

AdminResponse Router::dispatch(const AdminRequest& request) const {
  std::vector<std::string_view> segments = split_path(request.path);
  std::string allowed;  // the methods of routes that match the path
  for (const Route& route : routes_) {
    PathParams params;
    if (!matches(route, segments, &params)) continue;
    if (route.method == request.method) return route.handler(params, request);
    if (allowed.find(route.method) == std::string::npos) {
      allowed += (allowed.empty() ? "" : ", ") + route.method;
    }
  }
  if (!allowed.empty()) {
    AdminResponse r = error_response(
        405, request.method + " is not allowed on " + request.path + " (use " + allowed + ")");
    r.allow = allowed;
    return r;
  }
  std::string hint = request.path.rfind("/api/v1/", 0) == 0 ? "" : " (the API is under /api/v1/)";
  return error_response(404, "no such endpoint: " + request.method + " " + request.path + hint);
}

}  // namespace ballast::admin
