// Feeds arbitrary header values to the cache's parsers: Cache-Control, delta-seconds,
// HTTP-dates, Vary selection, the client's Range and conditions, the key policy, and stored
// fields. Checks what the cache relies on: lifetimes are never negative nor above 2^31, a
// date that parses formats back to the same instant, a Vary selection is the same for a
// request whatever the order of its unrelated fields, a range served lies within the body,
// and a key always starts with the lower-cased host.
#include "cache/cache_control.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cache/conditional.h"
#include "cache/freshness.h"
#include "cache/key_policy.h"
#include "cache/object.h"
#include "cache/response_facts.h"
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

  // The client's Range against bodies of a few lengths: a part is always inside the body.
  for (uint64_t length : {uint64_t{0}, uint64_t{1}, uint64_t{1000}}) {
    cache::ByteRange range;
    if (cache::choose_range(in, "", "\"e\"", "", length, &range) == cache::RangeAnswer::kPart)
      check(range.first <= range.last && range.last < length);
    cache::choose_range("bytes=0-1", in, "\"e\"", in, length, &range);
  }
  cache::not_modified(in, in, "\"e\"", 1800000000);

  // Keys: under every query policy, the host comes first, lower-cased.
  for (auto query : {cache::KeyPolicy::Query::kAll, cache::KeyPolicy::Query::kNone,
                     cache::KeyPolicy::Query::kOnly, cache::KeyPolicy::Query::kExcept}) {
    cache::KeyPolicy policy;
    policy.query = query;
    policy.query_names = {"a", std::string(in.substr(0, 8))};
    policy.headers = {"x"};
    policy.cookies = {"c"};
    std::string key;
    std::vector<http::Header> fields = {{"X", in}, {"Cookie", in}};
    cache::build_key(policy, "Host", "/p?" + std::string(in), fields, key);
    check(key.starts_with("host/p"));
  }

  // Stored fields of any shape make an object, and a 304's fields update them.
  cache::Object::Parts parts;
  parts.key = "k";
  parts.fields = std::string(in);
  cache::ObjectPtr object = cache::Object::make(std::move(parts));
  http::MessageHead update;
  update.headers = {{"ETag", in}, {"Content-Length", "1"}};
  std::string updated = cache::updated_fields(object->fields(), update);
  check(updated.find("Content-Length") == std::string::npos ||
        object->fields().find("Content-Length") != std::string::npos);
  cache::tags_of(object->head());
  return 0;
}
