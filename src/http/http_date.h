#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ballast::http {

// HTTP-date (RFC 9110 5.6.7) to Unix seconds. Recipients must accept all three forms:
//   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"   (the one senders use)
//   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"  (two-digit years: within 50 years of now)
//   asctime      "Sun Nov  6 08:49:37 1994"
// nullopt for anything else (a cache then treats an Expires as already past).
std::optional<int64_t> parse_http_date(std::string_view text, int64_t now_unix = 0);

// IMF-fixdate of `unix_seconds`, as Date and Last-Modified are written.
std::string format_http_date(int64_t unix_seconds);

}  // namespace ballast::http
