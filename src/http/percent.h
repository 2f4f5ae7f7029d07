#pragma once
#include <string>
#include <string_view>

namespace ballast::http {

// Decodes %XX escapes ("%5B%3A%3A1%5D" -> "[::1]"); a malformed escape stays as it is.
// `plus_is_space`: also "+" -> " ", as in query strings (application/x-www-form-urlencoded).
std::string percent_decode(std::string_view s, bool plus_is_space = false);

}  // namespace ballast::http
