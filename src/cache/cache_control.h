#pragma once
#include <bitset>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ballast::cache {

// The Cache-Control directives a shared cache acts on (RFC 9111 5.2, RFC 5861 for the
// stale-* extensions, RFC 8246 immutable), from requests and responses alike.
enum class Directive : uint8_t {
  kNoStore,
  kNoCache,
  kPrivate,
  kPublic,
  kMustRevalidate,
  kProxyRevalidate,
  kNoTransform,
  kOnlyIfCached,
  kImmutable,
  kMustUnderstand,
  kMaxStaleAny,  // max-stale without a value: any staleness will do (requests)
  kCount,
};

// A parsed Cache-Control. Parsing is lenient where RFC 9111 lets a cache be and
// conservative where it matters: unknown directives are ignored (5.2.3); directive names
// are case-insensitive; values may be tokens or quoted strings; the first occurrence of a
// repeated directive counts (4.2.1); a delta-seconds too large for 31 bits saturates at
// 2147483648 (1.2.2); an invalid max-age or s-maxage ("max-age=soon") counts as 0, so the
// response is stale rather than fresh for a guessed time (4.2.1). `no-cache` and `private`
// with field names are taken unqualified, which 5.2.2.4 and 5.2.2.7 allow: the response is
// revalidated or not stored, never served with a field the origin meant to keep back.
class CacheControl {
 public:
  // Every Cache-Control line of a message, combined: call it once per line.
  void add(std::string_view field_value);
  static CacheControl parse(std::string_view field_value) {
    CacheControl c;
    c.add(field_value);
    return c;
  }

  bool has(Directive d) const { return flags_.test(static_cast<size_t>(d)); }
  std::optional<int64_t> max_age;
  std::optional<int64_t> s_maxage;
  std::optional<int64_t> stale_while_revalidate;
  std::optional<int64_t> stale_if_error;
  std::optional<int64_t> max_stale;  // requests; see also kMaxStaleAny
  std::optional<int64_t> min_fresh;  // requests

  static constexpr int64_t kMaxDelta = 2147483648;  // RFC 9111 1.2.2

 private:
  void directive(std::string_view name, std::optional<std::string_view> value);
  std::bitset<static_cast<size_t>(Directive::kCount)> flags_;
};

// delta-seconds (RFC 9111 1.2.2): digits only, saturating at CacheControl::kMaxDelta;
// nullopt when `text` is not a delta-seconds.
std::optional<int64_t> parse_delta_seconds(std::string_view text);

}  // namespace ballast::cache
