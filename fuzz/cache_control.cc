// Feeds arbitrary header values to the cache's parsers: Cache-Control, delta-seconds,
// HTTP-dates and Vary selection. Checks what the cache relies on: lifetimes are never
// negative nor above 2^31, a date that parses formats back to the same instant, and a
// Vary selection is the same for a request whatever the order of its unrelated fields.
#include "cache/cache_control.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cache/freshness.h"
#include "cache/vary.h"
#include "http/http_date.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_delta(const std::optional<int64_t>& v) {
  check(!v || (*v >= 0 && *v <= ballast::cache::CacheControl::kMaxDelta));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ballast;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  cache::CacheControl cc = cache::CacheControl::parse(in);
  check_delta(cc.max_age);
  check_delta(cc.s_maxage);
  check_delta(cc.stale_while_revalidate);
  check_delta(cc.stale_if_error);
  check_delta(cc.max_stale);
  check_delta(cc.min_fresh);

  cache::StoredResponse r;
  r.cc = cc;
  r.response_time = r.request_time = 1800000000;
  int64_t lifetime = cache::freshness_lifetime(r, {});
  check(lifetime >= 0 && lifetime <= cache::CacheControl::kMaxDelta);
  cache::decide(r, cc, {}, r.response_time + (size % 1000));

  if (auto t = http::parse_http_date(in, 1800000000)) {
    check(http::parse_http_date(http::format_http_date(*t)) == t);
  }

  // Fields Vary does not name never change the selection, whatever the value of one it does.
  std::vector<http::Header> a = {{"Accept-Encoding", in}, {"X-Other", "1"}};
  std::vector<http::Header> b = {{"X-Other", "2"}, {"Accept-Encoding", in}};
  std::vector<std::string_view> vary = {"accept-encoding"};
  check(cache::vary_selection(vary, a) == cache::vary_selection(vary, b));
  // "*" anywhere in Vary matches nothing.
  check(!cache::vary_selection({in, "*"}, a).has_value());
  return 0;
}
