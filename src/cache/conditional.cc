#include "cache/conditional.h"

#include <charconv>

#include "http/headers.h"
#include "http/http_date.h"

namespace ballast::cache {

namespace {

std::string_view opaque(std::string_view tag) {
  return tag.starts_with("W/") ? tag.substr(2) : tag;
}

// If-None-Match's list against the stored ETag, by weak comparison (RFC 9110 8.8.3.2).
bool matches_any(std::string_view list, std::string_view etag) {
  if (http::trim_ows(list) == "*") return !etag.empty();
  if (etag.empty()) return false;
  std::string_view want = opaque(etag);
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view tag = http::trim_ows(list.substr(0, comma));
    if (!tag.empty() && opaque(tag) == want) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<uint64_t> number(std::string_view s) {
  uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

bool not_modified(std::string_view if_none_match, std::string_view if_modified_since,
                  std::string_view etag, std::optional<int64_t> last_modified) {
  if (!if_none_match.empty()) return matches_any(if_none_match, etag);
  if (if_modified_since.empty() || !last_modified) return false;
  std::optional<int64_t> since = http::parse_http_date(if_modified_since);
  return since && *last_modified <= *since;
}

RangeAnswer choose_range(std::string_view range, std::string_view if_range, std::string_view etag,
                         std::string_view last_modified, uint64_t length, ByteRange* out) {
  range = http::trim_ows(range);
  if (!range.starts_with("bytes=")) return RangeAnswer::kWhole;  // unknown units are ignored
  if (!if_range.empty()) {
    if_range = http::trim_ows(if_range);
    bool strong_etag = !etag.empty() && !etag.starts_with("W/");
    bool current = if_range.starts_with('"') || if_range.starts_with("W/")
                       ? strong_etag && !if_range.starts_with("W/") && if_range == etag
                       : !last_modified.empty() && if_range == last_modified;
    if (!current) return RangeAnswer::kWhole;
  }
  std::string_view spec = http::trim_ows(range.substr(6));
  if (spec.find(',') != std::string_view::npos) return RangeAnswer::kWhole;
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeAnswer::kWhole;
  std::string_view first_text = http::trim_ows(spec.substr(0, dash));
  std::string_view last_text = http::trim_ows(spec.substr(dash + 1));
  if (first_text.empty()) {
    // A suffix: the last N bytes.
    std::optional<uint64_t> n = number(last_text);
    if (!n) return RangeAnswer::kWhole;
    if (*n == 0 || length == 0) return RangeAnswer::kUnsatisfiable;
    out->first = *n >= length ? 0 : length - *n;
    out->last = length - 1;
    return RangeAnswer::kPart;
  }
  std::optional<uint64_t> first = number(first_text);
  std::optional<uint64_t> last =
      last_text.empty() ? std::optional<uint64_t>(UINT64_MAX) : number(last_text);
  if (!first || !last || *last < *first) return RangeAnswer::kWhole;  // invalid: ignored
  if (*first >= length) return RangeAnswer::kUnsatisfiable;
  out->first = *first;
  out->last = *last >= length ? length - 1 : *last;
  return RangeAnswer::kPart;
}

}  // namespace ballast::cache
