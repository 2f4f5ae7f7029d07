#include "cache/key_policy.h"

#include <algorithm>

namespace ballast::cache {

namespace {

void append_lower(std::string& out, std::string_view s) {
  for (char c : s) out.push_back(http::ascii_lower(c));
}

bool named(const std::vector<std::string>& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return n == name; });
}

// The query string as the policy keeps it, parameters in the client's order.
void append_query(const KeyPolicy& policy, std::string_view query, std::string& out) {
  if (policy.query == KeyPolicy::Query::kNone || query.empty()) return;
  if (policy.query == KeyPolicy::Query::kAll) {
    out.push_back('?');
    out.append(query);
    return;
  }
  bool first = true;
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view param = query.substr(start, amp - start);
    std::string_view name = param.substr(0, param.find('='));
    bool listed = named(policy.query_names, name);
    if (!param.empty() && listed == (policy.query == KeyPolicy::Query::kOnly)) {
      out.push_back(first ? '?' : '&');
      out.append(param);
      first = false;
    }
    start = amp + 1;
  }
}

}  // namespace

void build_url(std::string_view host, std::string_view target, std::string& out) {
  out.clear();
  append_lower(out, host);
  out.append(target);
}

void build_key(const KeyPolicy& policy, std::string_view host, std::string_view target,
               const std::vector<http::Header>& headers, std::string& out) {
  out.clear();
  append_lower(out, host);
  size_t question = target.find('?');
  out.append(target.substr(0, question));
  if (question != std::string_view::npos) append_query(policy, target.substr(question + 1), out);
  // '\n' cannot occur in a target or a field value: the parts stay apart.
  for (const auto& name : policy.headers) {
    out.push_back('\n');
    out.append(name);
    out.push_back(':');
    bool first = true;
    for (const auto& h : headers) {
      if (!http::iequals(h.name, name)) continue;
      if (!first) out.push_back(',');
      out.append(h.value);
      first = false;
    }
  }
  for (const auto& name : policy.cookies) {
    out.append("\ncookie ");
    out.append(name);
    out.push_back('=');
    for (const auto& h : headers) {
      std::string_view value;
      if (http::iequals(h.name, "cookie") && http::find_cookie(h.value, name, &value)) {
        out.append(value);
        break;
      }
    }
  }
}

}  // namespace ballast::cache
