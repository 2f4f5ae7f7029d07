#include "config/rule_reader.h"

#include <algorithm>
#include <map>

#include "config/yaml_reader.h"
#include "http/headers.h"

namespace ballast::config {

namespace {

// `key: { name: value, ... }` -> pairs; values must be scalars.
std::vector<std::pair<std::string, std::string>> read_pairs(MapReader& m, const char* key,
                                                            ErrorList& errors) {
  std::vector<std::pair<std::string, std::string>> out;
  YAML::Node node = m.node(key);
  if (!node.IsDefined()) return out;
  if (!node.IsMap()) {
    errors.add(location_of(node), m.child_path(key), "expected a mapping such as { name: value }");
    return out;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->second.IsScalar()) {
      errors.add(location_of(it->second), m.child_path(key) + "." + it->first.Scalar(),
                 "expected a single value");
      continue;
    }
    out.emplace_back(it->first.Scalar(), it->second.Scalar());
  }
  return out;
}

// RFC 9110 5.1: a field name is a token.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// RFC 9110 5.5: visible characters, spaces and tabs; no line breaks.
bool is_field_value(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\t') return false;
    if (u == 0x7f) return false;
  }
  return true;
}

// A name the policy may not touch: the framing and the connection are ballast's to state.
bool is_reserved_field(std::string_view name) {
  for (std::string_view reserved : {"content-length", "transfer-encoding", "connection",
                                    "keep-alive", "upgrade", "te", "trailer"}) {
    if (http::iequals(name, reserved)) return true;
  }
  return name.size() >= 6 && http::iequals(name.substr(0, 6), "proxy-");
}

bool check_field_name(const std::string& name, const Location& where, const std::string& path,
                      ErrorList& errors) {
  if (!is_token(name)) {
    errors.add(where, path, "\"" + name + "\" is not a valid header field name");
    return false;
  }
  if (is_reserved_field(name)) {
    errors.add(where, path,
               "\"" + name +
                   "\" is ballast's to state (framing and connection fields cannot be "
                   "set or removed)");
    return false;
  }
  return true;
}

// security_headers: true, or { frame_options, referrer_policy, content_security_policy,
// hsts_max_age }: CloudFront's security headers policy, each field added when the target
// did not send its own.
void read_security_headers(MapReader& h, ResponseHeadersConfig& out, ErrorList& errors) {
  using Mode = ResponseHeadersConfig::Field::Mode;
  YAML::Node node = h.node("security_headers");
  std::string frame = "SAMEORIGIN", referrer = "strict-origin-when-cross-origin", csp;
  int64_t hsts_ms = int64_t{365} * 86400 * 1000;
  if (node.IsScalar()) {
    auto on = h.boolean("security_headers");
    if (!on || !*on) return;
  } else {
    MapReader s(node, h.child_path("security_headers"), errors);
    if (auto v = s.string("frame_options")) {
      if (*v != "DENY" && *v != "SAMEORIGIN") {
        errors.add(location_of(s.node("frame_options")), s.child_path("frame_options"),
                   "expected DENY or SAMEORIGIN");
      }
      frame = *v;
    }
    if (auto v = s.string("referrer_policy")) referrer = *v;
    if (auto v = s.string("content_security_policy")) csp = *v;
    if (auto v = s.duration_ms("hsts_max_age", 0, int64_t{2} * 365 * 86400 * 1000)) hsts_ms = *v;
    for (const std::string* v : {&referrer, &csp}) {
      if (!is_field_value(*v))
        errors.add(s.location(), s.child_path("security_headers"), "a value holds a line break");
    }
    s.finish();
  }
  out.fields.push_back(
      {"Strict-Transport-Security", "max-age=" + std::to_string(hsts_ms / 1000), Mode::kDefault});
  out.fields.push_back({"X-Content-Type-Options", "nosniff", Mode::kDefault});
  out.fields.push_back({"X-Frame-Options", frame, Mode::kDefault});
  out.fields.push_back({"Referrer-Policy", referrer, Mode::kDefault});
  if (!csp.empty()) out.fields.push_back({"Content-Security-Policy", csp, Mode::kDefault});
}

// response_headers: { set: {name: value}, add: {name: value}, remove: [name],
// security_headers: true | {...} }
void read_response_headers(MapReader& r, RuleConfig& rule, ErrorList& errors) {
  using Mode = ResponseHeadersConfig::Field::Mode;
  MapReader h(r.node("response_headers"), r.child_path("response_headers"), errors);
  ResponseHeadersConfig& out = rule.response_headers;
  out.location = h.location();
  for (auto [key, mode] : {std::pair{"set", Mode::kSet}, std::pair{"add", Mode::kAdd}}) {
    for (auto& [name, value] : read_pairs(h, key, errors)) {
      std::string path = h.child_path(key) + "." + name;
      if (!check_field_name(name, h.location(), path, errors)) continue;
      if (!is_field_value(value)) {
        errors.add(h.location(), path, "the value holds a line break or a control character");
        continue;
      }
      out.fields.push_back({name, value, mode});
    }
  }
  for_each_item(h, "remove", errors, [&](const YAML::Node& item, const std::string& path) {
    if (!item.IsScalar()) {
      errors.add(location_of(item), path, "expected a header field name");
      return;
    }
    if (check_field_name(item.Scalar(), location_of(item), path, errors))
      out.remove.push_back(item.Scalar());
  });
  if (h.has("security_headers")) {
    read_security_headers(h, out, errors);
  } else {
    h.node("security_headers");
  }
  h.finish();
}

// rate_limit: { requests: 100, per: 1s, burst: 200, key: client_ip | rule | { header: N } }
void read_rate_limit(MapReader& r, RuleConfig& rule, ErrorList& errors) {
  MapReader m(r.node("rate_limit"), r.child_path("rate_limit"), errors);
  RateLimitConfig& out = rule.rate_limit;
  out.enabled = true;
  out.location = m.location();
  if (auto v = m.integer("requests", 1, 1000000000)) {
    out.requests = *v;
  } else if (!m.has("requests")) {
    errors.add(m.location(), m.child_path("requests"),
               "a rate limit needs requests (per 1s unless \"per\" says otherwise)");
  }
  if (auto v = m.duration_ms("per", 1, int64_t{86400} * 1000)) out.period_ms = *v;
  out.burst = out.requests;  // a period's worth at once, then the sustained rate
  if (auto v = m.integer("burst", 1, 1000000000)) out.burst = *v;
  YAML::Node key = m.node("key");
  if (key.IsScalar()) {
    if (key.Scalar() == "client_ip") {
      out.key = RateLimitConfig::Key::kClientIp;
    } else if (key.Scalar() == "rule") {
      out.key = RateLimitConfig::Key::kRule;
    } else {
      errors.add(
          location_of(key), m.child_path("key"),
          "unknown key \"" + key.Scalar() + "\"; expected client_ip, rule or { header: NAME }");
    }
  } else if (key.IsMap()) {
    MapReader k(key, m.child_path("key"), errors);
    if (auto v = k.string("header", true)) {
      out.key = RateLimitConfig::Key::kHeader;
      out.header = *v;
      if (!is_token(*v))
        errors.add(k.location(), k.child_path("header"), "not a valid header field name");
    }
    k.finish();
  } else if (key.IsDefined()) {
    errors.add(location_of(key), m.child_path("key"),
               "expected client_ip, rule or { header: NAME }");
  }
  m.finish();
  if (out.requests > 0)
    out.limiter =
        std::make_shared<core::RateLimiter>(out.requests, out.period_ms * 1000, out.burst);
}

// compression: true, or { codings: [br, zstd, gzip], types: [text/*, ...], min_size: 1KiB }
void read_compression(MapReader& r, RuleConfig& rule, ErrorList& errors) {
  CompressionConfig& out = rule.compression;
  YAML::Node node = r.node("compression");
  out.location = location_of(node);
  if (node.IsScalar()) {
    auto on = r.boolean("compression");
    out.enabled = on && *on;
    return;
  }
  out.enabled = true;
  MapReader m(node, r.child_path("compression"), errors);
  if (m.has("codings")) {
    out.codings.clear();
    for_each_item(m, "codings", errors, [&](const YAML::Node& item, const std::string& path) {
      auto coding = item.IsScalar() ? compress::coding_from_name(item.Scalar()) : std::nullopt;
      if (!coding) {
        errors.add(location_of(item), path,
                   "unknown coding \"" + (item.IsScalar() ? item.Scalar() : std::string()) +
                       "\"; expected br, zstd or gzip");
        return;
      }
      out.codings.push_back(*coding);
    });
    if (out.codings.empty())
      errors.add(m.location(), m.child_path("codings"), "name at least one coding");
  } else {
    m.node("codings");
  }
  if (m.has("types")) {
    out.types.clear();
    for_each_item(m, "types", errors, [&](const YAML::Node& item, const std::string& path) {
      std::string type = item.IsScalar() ? item.Scalar() : std::string();
      size_t slash = type.find('/');
      if (slash == std::string::npos || slash == 0 || slash + 1 == type.size() ||
          !is_token(type.substr(0, slash)) ||
          (type.substr(slash + 1) != "*" && !is_token(type.substr(slash + 1)))) {
        errors.add(location_of(item), path,
                   "\"" + type + "\" is not a media type such as text/html or text/*");
        return;
      }
      out.types.push_back(type);
    });
  } else {
    m.node("types");
  }
  if (auto v = m.size("min_size", 0, uint64_t{1} << 30)) out.min_size = *v;
  m.finish();
}

// A list of names (query parameters, header fields, cookies) at `key` of `m`.
std::vector<std::string> read_names(MapReader& m, std::string_view key, bool fields,
                                    ErrorList& errors) {
  std::vector<std::string> names;
  for_each_item(m, key, errors, [&](const YAML::Node& item, const std::string& path) {
    std::string name = item.IsScalar() ? item.Scalar() : std::string();
    if (name.empty() || (fields && !is_token(name))) {
      errors.add(location_of(item), path,
                 fields ? "not a valid header field name" : "expected a non-empty name");
      return;
    }
    if (fields) {
      for (char& c : name) c = http::ascii_lower(c);
    }
    names.push_back(name);
  });
  return names;
}

// key: { query: all | none | { only: [..] } | { except: [..] }, headers: [..], cookies: [..] }
void read_cache_key(MapReader& c, cache::KeyPolicy& key, ErrorList& errors) {
  MapReader k(c.node("key"), c.child_path("key"), errors);
  YAML::Node query = k.node("query");
  if (query.IsScalar() && query.Scalar() == "all") {
    key.query = cache::KeyPolicy::Query::kAll;
  } else if (query.IsScalar() && query.Scalar() == "none") {
    key.query = cache::KeyPolicy::Query::kNone;
  } else if (query.IsMap()) {
    MapReader q(query, k.child_path("query"), errors);
    bool only = q.has("only");
    bool except = q.has("except");
    if (only == except) {
      errors.add(q.location(), q.path(), "expected either only: [names] or except: [names]");
    }
    key.query = only ? cache::KeyPolicy::Query::kOnly : cache::KeyPolicy::Query::kExcept;
    key.query_names = read_names(q, only ? "only" : "except", false, errors);
    if (!only) q.node("only");
    if (!except) q.node("except");
    q.finish();
  } else if (query.IsDefined()) {
    errors.add(location_of(query), k.child_path("query"),
               "expected all, none, { only: [names] } or { except: [names] }");
  }
  key.headers = read_names(k, "headers", true, errors);
  key.cookies = read_names(k, "cookies", false, errors);
  k.finish();
}

// cache: true, or { default_ttl, min_ttl, max_ttl, heuristic, max_object_size, lock_timeout,
// key }
void read_cache(MapReader& r, RuleConfig& rule, ErrorList& errors) {
  RuleCacheConfig& out = rule.cache;
  YAML::Node node = r.node("cache");
  out.location = location_of(node);
  if (rule.action != RuleConfig::Action::kForward || rule.forward.empty()) {
    errors.add(out.location, r.child_path("cache"), "applies only to a forward rule");
  }
  if (node.IsScalar()) {
    auto on = r.boolean("cache");
    out.enabled = on && *on;
    return;
  }
  out.enabled = true;
  MapReader c(node, r.child_path("cache"), errors);
  constexpr int64_t kYearMs = int64_t{365} * 86400 * 1000;
  if (auto v = c.duration_ms("default_ttl", 0, kYearMs)) out.ttl.default_ttl = *v / 1000;
  if (auto v = c.duration_ms("min_ttl", 0, kYearMs)) out.ttl.min_ttl = *v / 1000;
  if (auto v = c.duration_ms("max_ttl", 0, kYearMs)) out.ttl.max_ttl = *v / 1000;
  if (out.ttl.min_ttl > out.ttl.max_ttl) {
    errors.add(c.key_location("min_ttl"), c.child_path("min_ttl"), "is longer than max_ttl");
  }
  if (auto v = c.boolean("heuristic")) out.ttl.heuristic = *v;
  if (auto v = c.size("max_object_size", 1, uint64_t{1} << 32)) out.max_object_size = *v;
  if (auto v = c.duration_ms("lock_timeout", 0, 600 * 1000)) out.lock_timeout_ms = *v;
  if (c.has("key"))
    read_cache_key(c, out.key, errors);
  else
    c.node("key");
  c.finish();
}

// A share of requests, 0 to 100 (percent).
std::optional<double> read_percent(MapReader& m, std::string_view key, ErrorList& errors) {
  std::optional<double> v = m.number(key);
  if (v && (*v < 0 || *v > 100)) {
    errors.add(m.key_location(key), m.child_path(key), "must be a percentage from 0 to 100");
    return std::nullopt;
  }
  return v;
}

// fault: { id, delay: { duration, percent }, abort: { status, percent }, reset: { percent } }
void read_fault(MapReader& r, RuleConfig& rule, ErrorList& errors) {
  FaultConfig& out = rule.fault;
  MapReader f(r.node("fault"), r.child_path("fault"), errors);
  out.enabled = true;
  out.location = f.location();
  if (rule.action != RuleConfig::Action::kForward || rule.forward.empty())
    errors.add(out.location, r.child_path("fault"), "applies only to a forward rule");
  if (auto v = f.string("id")) {
    out.id = *v;
    if (v->empty() || v->find_first_of("/ ") != std::string::npos)
      errors.add(f.key_location("id"), f.child_path("id"), "a name without spaces or slashes");
  }
  bool any = f.has("id");
  if (f.has("delay")) {
    MapReader d(f.node("delay"), f.child_path("delay"), errors);
    if (auto v = d.duration_ms("duration", 1, 3600 * 1000)) {
      out.delay_ms = *v;
    } else if (!d.has("duration")) {
      errors.add(d.location(), d.child_path("duration"), "a delay needs a duration");
    }
    out.delay_percent = read_percent(d, "percent", errors).value_or(100);
    d.finish();
    any = true;
  } else {
    f.node("delay");
  }
  if (f.has("abort")) {
    MapReader a(f.node("abort"), f.child_path("abort"), errors);
    out.abort_status = static_cast<int>(a.integer("status", 400, 599).value_or(503));
    out.abort_percent = read_percent(a, "percent", errors).value_or(100);
    a.finish();
    any = true;
  } else {
    f.node("abort");
  }
  if (f.has("reset")) {
    MapReader s(f.node("reset"), f.child_path("reset"), errors);
    out.reset_percent = read_percent(s, "percent", errors).value_or(100);
    s.finish();
    any = true;
  } else {
    f.node("reset");
  }
  if (!any) {
    errors.add(out.location, r.child_path("fault"),
               "name a delay, an abort or a reset (or an id, to set them through the API)");
  }
  f.finish();
  out.settings = std::make_shared<core::FaultSettings>();
  out.settings->delay_ms = out.delay_ms;
  out.settings->delay_share = core::FaultSettings::share_of_percent(out.delay_percent);
  out.settings->abort_status = out.abort_status;
  out.settings->abort_share = core::FaultSettings::share_of_percent(out.abort_percent);
  out.settings->reset_share = core::FaultSettings::share_of_percent(out.reset_percent);
}

void read_match(MapReader& r, RuleMatch& match, ErrorList& errors) {
  MapReader m(r.node("match"), r.child_path("match"), errors);
  match.host = m.string("host");
  match.path_prefix = m.string("path_prefix");
  match.path = m.string("path");
  for (const char* key : {"path_prefix", "path"}) {
    auto v = m.string(key);
    if (v && (v->empty() || (*v)[0] != '/')) {
      errors.add(location_of(m.node(key)), m.child_path(key), "must start with \"/\"");
    }
  }
  if (auto v = m.string("path_regex")) {
    try {
      match.path_regex = std::make_shared<const std::regex>(*v, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      errors.add(location_of(m.node("path_regex")), m.child_path("path_regex"),
                 "invalid regular expression \"" + *v + "\": " + e.what());
    }
  }
  YAML::Node methods = m.node("method");
  if (methods.IsScalar()) {
    match.methods.push_back(methods.Scalar());
  } else if (methods.IsSequence()) {
    for (const auto& item : methods) match.methods.push_back(item.as<std::string>(""));
  } else if (methods.IsDefined()) {
    errors.add(location_of(methods), m.child_path("method"), "expected a method or a list of them");
  }
  for (const auto& method : match.methods) {
    bool token = !method.empty() && std::all_of(method.begin(), method.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
    });
    if (!token) {
      errors.add(location_of(methods), m.child_path("method"),
                 "invalid method \"" + method + "\": methods are upper case, such as GET");
    }
  }
  match.headers = read_pairs(m, "headers", errors);
  match.query = read_pairs(m, "query", errors);
  m.finish();
}

void read_fixed_response(MapReader& r, RuleConfig& rule, ErrorList& errors) {
  MapReader f(r.node("fixed_response"), r.child_path("fixed_response"), errors);
  rule.action = RuleConfig::Action::kFixedResponse;
  rule.status = static_cast<int>(f.integer("status", 200, 599).value_or(200));
  rule.content_type = f.string("content_type").value_or("text/plain; charset=utf-8");
  rule.body = f.string("body").value_or("");
  f.finish();
}

void read_redirect(MapReader& r, RuleConfig& rule, ErrorList& errors) {
  MapReader d(r.node("redirect"), r.child_path("redirect"), errors);
  rule.action = RuleConfig::Action::kRedirect;
  int status = static_cast<int>(d.integer("status", 300, 399).value_or(301));
  if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
    errors.add(d.key_location("status"), d.child_path("status"),
               "redirect status must be 301, 302, 303, 307 or 308");
  }
  rule.status = status;
  if (auto v = d.string("location", true)) rule.location_template = *v;
  d.finish();
}

// forward: { target_group: NAME }  or  forward: [{ target_group: A, weight: 90 }, ...]
void read_forward(MapReader& r, RuleConfig& rule, ErrorList& errors) {
  YAML::Node node = r.node("forward");
  auto read_one = [&](const YAML::Node& item, const std::string& path, bool weighted) {
    MapReader f(item, path, errors);
    RuleConfig::ForwardTo to;
    if (auto v = f.string("target_group", true)) to.target_group = *v;
    to.location = location_of(f.node("target_group"));
    to.path = f.child_path("target_group");
    if (weighted) {
      if (auto w = f.integer("weight", 0, 1000000)) to.weight = static_cast<uint32_t>(*w);
    }
    f.finish();
    rule.forward.push_back(std::move(to));
  };
  if (node.IsSequence()) {
    if (node.size() == 0) errors.add(location_of(node), r.child_path("forward"), "empty list");
    for (size_t i = 0; i < node.size(); ++i) {
      read_one(node[i], r.child_path("forward") + "[" + std::to_string(i) + "]", true);
    }
    uint64_t total = 0;
    for (const auto& f : rule.forward) total += f.weight;
    if (node.size() > 0 && total == 0) {
      errors.add(location_of(node), r.child_path("forward"), "every weight is 0");
    }
  } else {
    read_one(node, r.child_path("forward"), false);
  }
}

}  // namespace

RuleConfig read_rule(const YAML::Node& node, const std::string& path, ErrorList& errors) {
  RuleConfig rule;
  MapReader r(node, path, errors);
  rule.location = r.location();
  if (r.has("match"))
    read_match(r, rule.match, errors);
  else
    r.node("match");
  if (auto v = r.integer("priority", 1, 50000)) rule.priority = static_cast<uint32_t>(*v);
  int actions = r.has("forward") + r.has("fixed_response") + r.has("redirect");
  if (r.is_map() && actions != 1) {
    errors.add(r.location(), path,
               actions == 0 ? "rule has no action: add \"forward: { target_group: NAME }\", "
                              "\"fixed_response\" or \"redirect\""
                            : "a rule has exactly one action: forward, fixed_response or redirect");
  }
  if (r.has("forward")) {
    read_forward(r, rule, errors);
  } else {
    r.node("forward");
  }
  if (auto v = r.boolean("retry_non_idempotent")) {
    rule.retry_non_idempotent = *v;
    if (!r.has("forward")) {
      errors.add(r.key_location("retry_non_idempotent"), r.child_path("retry_non_idempotent"),
                 "applies only to a forward rule");
    }
  }
  if (auto v = r.duration_ms("group_stickiness", 1000, int64_t{7} * 86400 * 1000)) {
    rule.group_stickiness_ms = *v;
    if (rule.forward.size() < 2) {
      errors.add(r.key_location("group_stickiness"), r.child_path("group_stickiness"),
                 "applies only to a forward to several weighted target groups");
    }
  }
  if (r.has("fixed_response"))
    read_fixed_response(r, rule, errors);
  else
    r.node("fixed_response");
  if (r.has("redirect"))
    read_redirect(r, rule, errors);
  else
    r.node("redirect");
  if (r.has("response_headers"))
    read_response_headers(r, rule, errors);
  else
    r.node("response_headers");
  if (r.has("rate_limit"))
    read_rate_limit(r, rule, errors);
  else
    r.node("rate_limit");
  if (r.has("compression"))
    read_compression(r, rule, errors);
  else
    r.node("compression");
  if (r.has("cache"))
    read_cache(r, rule, errors);
  else
    r.node("cache");
  if (r.has("fault"))
    read_fault(r, rule, errors);
  else
    r.node("fault");
  r.finish();
  return rule;
}

void order_rules(std::vector<RuleConfig>& rules, const std::string& listener_path,
                 ErrorList& errors) {
  std::map<uint32_t, size_t> seen;
  for (size_t i = 0; i < rules.size(); ++i) {
    if (!rules[i].priority) continue;
    auto [it, fresh] = seen.emplace(*rules[i].priority, i);
    if (!fresh) {
      errors.add(rules[i].location, listener_path + ".rules[" + std::to_string(i) + "].priority",
                 "priority " + std::to_string(*rules[i].priority) + " is also used by rules[" +
                     std::to_string(it->second) + "]");
    }
  }
  std::stable_sort(rules.begin(), rules.end(), [](const RuleConfig& a, const RuleConfig& b) {
    if (a.priority && b.priority) return *a.priority < *b.priority;
    return a.priority.has_value() && !b.priority.has_value();
  });
}

}  // namespace ballast::config
