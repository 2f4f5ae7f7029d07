#include "http/headers.h"

namespace ballast::http {

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool list_contains_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = trim_ows(value.substr(0, comma));
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

bool is_hop_by_hop(std::string_view name, std::string_view connection_value) {
  if (name.empty()) return false;
  switch (ascii_lower(name[0])) {
    case 'c':
      if (iequals(name, "connection")) return true;
      break;
    case 'k':
      if (iequals(name, "keep-alive")) return true;
      break;
    case 't':
      if (iequals(name, "te") || iequals(name, "trailer") || iequals(name, "transfer-encoding"))
        return true;
      break;
    case 'u':
      if (iequals(name, "upgrade")) return true;
      break;
    case 'p':
      if (name.size() >= 6 && iequals(name.substr(0, 6), "proxy-")) return true;
      break;
    default:
      break;
  }
  return !connection_value.empty() && list_contains_token(connection_value, name);
}

bool find_cookie(std::string_view cookie_header, std::string_view name, std::string_view* value) {
  while (!cookie_header.empty()) {
    size_t semi = cookie_header.find(';');
    std::string_view pair = http::trim_ows(cookie_header.substr(0, semi));
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      *value = pair.substr(eq + 1);
      return true;
    }
    if (semi == std::string_view::npos) break;
    cookie_header.remove_prefix(semi + 1);
  }
  return false;
}

}  // namespace ballast::http
