#pragma once
#include <string_view>

namespace ballast::http {

struct Header {
  std::string_view name;
  std::string_view value;
};

// ASCII lower case (header names are ASCII; no locale, no library call per character).
inline char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// The value of a hexadecimal digit, or -1.
inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// ASCII case-insensitive equality, as header names compare. Inline: most calls compare
// names of different lengths and end at the first test.
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// True when the comma-separated list `value` contains `token` (case-insensitive),
// as in "Connection: keep-alive, Upgrade".
bool list_contains_token(std::string_view value, std::string_view token);

// Hop-by-hop headers (RFC 9110 7.6.1) that a proxy must not forward: Connection,
// Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade, Proxy-*, plus any header that
// `connection_value` names.
bool is_hop_by_hop(std::string_view name, std::string_view connection_value);

// The value of cookie `name` in one Cookie header ("a=1; b=2"); false when it has none. The
// name must match whole: "sid" is not "xsid".
bool find_cookie(std::string_view cookie_header, std::string_view name, std::string_view* value);

// Strips optional whitespace (SP / HTAB) at both ends.
std::string_view trim_ows(std::string_view s);

}  // namespace ballast::http
