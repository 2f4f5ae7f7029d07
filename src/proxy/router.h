#pragma once
#include <string_view>
#include <vector>

#include "config/config.h"

namespace ballast::proxy {

// Splits "/path?query" and strips the query: rules match on the path only.
std::string_view path_of(std::string_view target);

// Host without its port, as rules compare it ("example.com:8080" -> "example.com").
std::string_view host_without_port(std::string_view host);

bool rule_matches(const config::RuleMatch& match, std::string_view host, std::string_view path);

// The first rule (in order) that matches, or -1.
int route(const std::vector<config::RuleConfig>& rules, std::string_view host,
          std::string_view target);

}  // namespace ballast::proxy
