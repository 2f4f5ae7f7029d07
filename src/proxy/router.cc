#include "proxy/router.h"

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

bool rule_matches(const config::RuleMatch& match, std::string_view host, std::string_view path) {
  if (match.host && !host_matches(*match.host, host_without_port(host))) return false;
  if (match.path && path != *match.path) return false;
  if (match.path_prefix && !path.starts_with(*match.path_prefix)) return false;
  return true;
}

int route(const std::vector<config::RuleConfig>& rules, std::string_view host,
          std::string_view target) {
  std::string_view path = path_of(target);
  for (size_t i = 0; i < rules.size(); ++i) {
    if (rule_matches(rules[i].match, host, path)) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace ballast::proxy
