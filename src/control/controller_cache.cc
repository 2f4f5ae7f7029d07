// The admin API of the response cache: what it holds (totals, the biggest and the most
// served objects) and purges by URL, URL prefix or tag.
#include <charconv>

#include "control/api_support.h"
#include "control/controller.h"
#include "core/clock.h"
#include "core/log.h"

namespace ballast::control {

using nlohmann::json;

namespace {

json object_json(const cache::Object& o, int64_t now) {
  return {{"url", o.url()},
          {"variant", o.variant()},
          {"status", o.head().status},
          {"bytes", o.charge()},
          {"body_bytes", o.body().size()},
          {"hits", o.hits()},
          {"age_seconds", cache::current_age(o.freshness(), now)},
          {"tags", o.tags()}};
}

// "https://example.com/a?b" and "example.com/a?b" name the same entry: the store keys by
// host and target, whatever the scheme.
std::string without_scheme(std::string url) {
  for (const char* scheme : {"http://", "https://"}) {
    if (url.starts_with(scheme)) return url.substr(std::string_view(scheme).size());
  }
  return url;
}

size_t limit_from(const std::string& query) {
  auto params = query_params(query);
  auto it = params.find("limit");
  if (it == params.end()) return 10;
  size_t limit = 0;
  const std::string& v = it->second;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), limit);
  if (ec != std::errc() || end != v.data() + v.size() || limit == 0 || limit > 1000)
    throw admin::ClientError(400, "limit must be a whole number from 1 to 1000");
  return limit;
}

}  // namespace

void Controller::add_cache_routes() {
  using admin::AdminRequest;
  using admin::PathParams;
  admin::Router& r = router_;
  r.add("GET", "/api/v1/cache", [this](const PathParams&, const AdminRequest& request) {
    size_t limit = limit_from(request.query);
    cache::Store::Totals t = cache_store_ ? cache_store_->totals() : cache::Store::Totals{};
    json out = {{"enabled", config_->cache_store != nullptr},
                {"capacity_bytes", cache_store_ ? cache_store_->capacity() : 0},
                {"bytes", t.bytes},
                {"objects", t.objects},
                {"evictions", t.evictions},
                {"not_admitted", t.not_admitted},
                {"purged", t.purged},
                {"fetches_in_progress", t.fills_in_progress},
                {"biggest", json::array()},
                {"hottest", json::array()}};
    if (cache_store_) {
      int64_t now = core::unix_seconds();
      for (const auto& o : cache_store_->top(cache::Store::Order::kBiggest, limit))
        out["biggest"].push_back(object_json(*o, now));
      for (const auto& o : cache_store_->top(cache::Store::Order::kHottest, limit))
        out["hottest"].push_back(object_json(*o, now));
    }
    return ok_json(out);
  });
  r.add("POST", "/api/v1/cache/purge", [this](const PathParams&, const AdminRequest& request) {
    json body = parse_body(request);
    std::string field;
    for (const char* name : {"url", "prefix", "tag"}) {
      if (!body.contains(name)) continue;
      if (!field.empty() || !body[name].is_string() || body[name].get<std::string>().empty())
        throw admin::ClientError(
            400,
            "the body needs exactly one of \"url\", \"prefix\" or \"tag\", a non-empty string");
      field = name;
    }
    if (field.empty())
      throw admin::ClientError(400, "the body needs \"url\", \"prefix\" or \"tag\"");
    const cache::Store::PurgeBy by = *purge_kind(field);
    std::string value = body[field].get<std::string>();
    if (by != cache::Store::PurgeBy::kTag) value = without_scheme(value);
    CachePurge purge{by, field, value};
    if (cluster_) return purge_through_cluster(purge);
    return purge_answer(purge, purge_here(purge, "admin"));
  });
}

std::optional<cache::Store::PurgeBy> Controller::purge_kind(const std::string& field) {
  if (field == "url") return cache::Store::PurgeBy::kUrl;
  if (field == "prefix") return cache::Store::PurgeBy::kPrefix;
  if (field == "tag") return cache::Store::PurgeBy::kTag;
  return std::nullopt;
}

Controller::Purged Controller::purge_here(const CachePurge& purge, const char* asked_by) {
  Purged p;
  if (cache_store_) p.objects = cache_store_->purge(purge.by, purge.value, &p.files);
  LOG_INFO("%s: cache purge by %s \"%s\": %zu object(s), %zu file(s)", asked_by,
           purge.field.c_str(), purge.value.c_str(), p.objects, p.files);
  return p;
}

admin::AdminResponse Controller::purge_answer(const CachePurge& purge, const Purged& purged) {
  return ok_json(
      {{"purged", purged.objects}, {"purged_from_disk", purged.files}, {purge.field, purge.value}});
}

}  // namespace ballast::control
