#include "cache/cache_control.h"

#include "http/headers.h"

namespace ballast::cache {

namespace {

bool is_tchar(char c) {
  // RFC 9110 5.6.2 token characters.
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Reads one directive's pieces from `in` at `pos`: a token name, and optionally "=" and a
// token or quoted-string value (quotes removed, backslash escapes left as they are: no
// directive ballast reads has one in its value). Skips to the next comma after.
struct Piece {
  std::string_view name;
  std::optional<std::string_view> value;
};

std::optional<Piece> next_piece(std::string_view in, size_t* pos) {
  auto skip_space = [&] {
    while (*pos < in.size() && (in[*pos] == ' ' || in[*pos] == '\t')) ++*pos;
  };
  skip_space();
  size_t start = *pos;
  while (*pos < in.size() && is_tchar(in[*pos])) ++*pos;
  Piece p{in.substr(start, *pos - start), std::nullopt};
  skip_space();
  if (*pos < in.size() && in[*pos] == '=') {
    ++*pos;
    skip_space();
    if (*pos < in.size() && in[*pos] == '"') {
      size_t open = ++*pos;
      while (*pos < in.size() && in[*pos] != '"') *pos += in[*pos] == '\\' ? 2 : 1;
      p.value = in.substr(open, std::min(*pos, in.size()) - open);
      if (*pos < in.size()) ++*pos;  // the closing quote
    } else {
      size_t v = *pos;
      while (*pos < in.size() && is_tchar(in[*pos])) ++*pos;
      p.value = in.substr(v, *pos - v);
    }
  }
  // Whatever else is before the next comma is malformed; skipped.
  while (*pos < in.size() && in[*pos] != ',') ++*pos;
  if (*pos < in.size()) ++*pos;
  if (p.name.empty()) return std::nullopt;
  return p;
}

}  // namespace

std::optional<int64_t> parse_delta_seconds(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
    if (v >= CacheControl::kMaxDelta) v = CacheControl::kMaxDelta;
  }
  return v;
}

void CacheControl::add(std::string_view field_value) {
  size_t pos = 0;
  while (pos < field_value.size()) {
    std::optional<Piece> p = next_piece(field_value, &pos);
    if (p) directive(p->name, p->value);
  }
}

void CacheControl::directive(std::string_view name, std::optional<std::string_view> value) {
  // What each known directive is; anything else is ignored (RFC 9111 5.2.3).
  enum class Shape { kFlag, kSeconds, kMaxStale };
  struct Known {
    std::string_view name;
    Shape shape;
    Directive flag;
    std::optional<int64_t> CacheControl::*slot;
    bool invalid_is_zero;  // an unreadable value makes the response stale
  };
  static constexpr Known kKnown[] = {
      {"max-age", Shape::kSeconds, Directive::kCount, &CacheControl::max_age, true},
      {"s-maxage", Shape::kSeconds, Directive::kCount, &CacheControl::s_maxage, true},
      {"stale-while-revalidate", Shape::kSeconds, Directive::kCount,
       &CacheControl::stale_while_revalidate, false},
      {"stale-if-error", Shape::kSeconds, Directive::kCount, &CacheControl::stale_if_error, false},
      {"min-fresh", Shape::kSeconds, Directive::kCount, &CacheControl::min_fresh, false},
      {"max-stale", Shape::kMaxStale, Directive::kMaxStaleAny, &CacheControl::max_stale, false},
      {"no-store", Shape::kFlag, Directive::kNoStore, nullptr, false},
      {"no-cache", Shape::kFlag, Directive::kNoCache, nullptr, false},
      {"private", Shape::kFlag, Directive::kPrivate, nullptr, false},
      {"public", Shape::kFlag, Directive::kPublic, nullptr, false},
      {"must-revalidate", Shape::kFlag, Directive::kMustRevalidate, nullptr, false},
      {"proxy-revalidate", Shape::kFlag, Directive::kProxyRevalidate, nullptr, false},
      {"no-transform", Shape::kFlag, Directive::kNoTransform, nullptr, false},
      {"only-if-cached", Shape::kFlag, Directive::kOnlyIfCached, nullptr, false},
      {"immutable", Shape::kFlag, Directive::kImmutable, nullptr, false},
      {"must-understand", Shape::kFlag, Directive::kMustUnderstand, nullptr, false},
  };
  for (const Known& k : kKnown) {
    if (!http::iequals(name, k.name)) continue;
    if (k.shape == Shape::kFlag || (k.shape == Shape::kMaxStale && !value)) {
      flags_.set(static_cast<size_t>(k.flag));
      return;
    }
    std::optional<int64_t>& slot = this->*k.slot;
    if (slot) return;  // the first occurrence counts (RFC 9111 4.2.1)
    std::optional<int64_t> seconds = value ? parse_delta_seconds(*value) : std::nullopt;
    if (seconds) {
      slot = seconds;
    } else if (k.invalid_is_zero) {
      slot = 0;
    }
    return;
  }
}

}  // namespace ballast::cache
