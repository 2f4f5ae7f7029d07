#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/headers.h"

namespace ballast::cache {

// The part of a request a response's Vary selects on (RFC 9111 4.1): for each field name
// Vary lists (in its order, lower-cased), the request's values of that field, all its
// lines combined with ", " and whitespace around commas removed, so that equivalent
// requests match. A stored response answers a new request only when both give the same
// text. nullopt for "Vary: *", which no request matches.
std::optional<std::string> vary_selection(const std::vector<std::string_view>& vary_lines,
                                          const std::vector<http::Header>& request_headers);

}  // namespace ballast::cache
