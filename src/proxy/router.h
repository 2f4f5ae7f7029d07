#pragma once
#include <string_view>
#include <vector>

#include "config/config.h"
#include "http/message_head.h"

namespace ballast::proxy {

// Splits "/path?query" and strips the query: rules match on the path only.
std::string_view path_of(std::string_view target);

// Host without its port, as rules compare it ("example.com:8080" -> "example.com").
std::string_view host_without_port(std::string_view host);

// The value of query parameter `name` in a request target, compared as sent (not
// percent-decoded); false when absent.
bool find_query_param(std::string_view target, std::string_view name, std::string_view* value);

bool rule_matches(const config::RuleMatch& match, const http::MessageHead& request);

// The first rule (in evaluation order) that matches, or -1.
int route(const std::vector<config::RuleConfig>& rules, const http::MessageHead& request);

}  // namespace ballast::proxy
