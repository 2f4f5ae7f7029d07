#include "proxy/router.h"

#include <algorithm>

#include "http/headers.h"

namespace ballast::proxy {

std::string_view path_of(std::string_view target) {
  // Absolute-form targets ("http://host/path") route on their path too.
  if (target.starts_with("http://") || target.starts_with("https://")) {
    size_t slash = target.find('/', target.find("//") + 2);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  size_t q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

std::string_view host_without_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  size_t colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

namespace {
bool host_matches(std::string_view pattern, std::string_view host) {
  if (pattern.starts_with("*.")) {
    std::string_view suffix = pattern.substr(1);  // ".example.com"
    return host.size() > suffix.size() &&
           http::iequals(host.substr(host.size() - suffix.size()), suffix);
  }
  return http::iequals(pattern, host);
}
}  // namespace

bool find_query_param(std::string_view target, std::string_view name, std::string_view* value) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return false;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      *value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      return true;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

bool rule_matches(const config::RuleMatch& match, const http::MessageHead& request) {
  if (match.host && !host_matches(*match.host, host_without_port(request.host))) return false;
  std::string_view path = path_of(request.target);
  if (match.path && path != *match.path) return false;
  if (match.path_prefix && !path.starts_with(*match.path_prefix)) return false;
  if (!match.methods.empty() && std::find(match.methods.begin(), match.methods.end(),
                                          request.method) == match.methods.end()) {
    return false;
  }
  for (const auto& [name, value] : match.headers) {
    if (request.find(name) != value) return false;
  }
  for (const auto& [name, value] : match.query) {
    std::string_view found;
    if (!find_query_param(request.target, name, &found) || found != value) return false;
  }
  // Last: the only condition that costs more than a comparison.
  if (match.path_regex && !std::regex_match(path.begin(), path.end(), *match.path_regex)) {
    return false;
  }
  return true;
}

int route(const std::vector<config::RuleConfig>& rules, const http::MessageHead& request) {
  for (size_t i = 0; i < rules.size(); ++i) {
    if (rule_matches(rules[i].match, request)) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace ballast::proxy
