#include "cache/response_facts.h"

#include "http/headers.h"
#include "http/http_date.h"

namespace ballast::cache {

StoredResponse stored_response_of(const http::MessageHead& response, int64_t request_time,
                                  int64_t response_time) {
  StoredResponse r;
  r.status = response.status;
  r.request_time = request_time;
  r.response_time = response_time;
  for (const auto& h : response.headers) {
    if (http::iequals(h.name, "cache-control")) {
      r.cc.add(h.value);
    } else if (http::iequals(h.name, "date") && !r.date) {
      r.date = http::parse_http_date(h.value, response_time);
    } else if (http::iequals(h.name, "expires") && !r.has_expires) {
      r.has_expires = true;
      r.expires = http::parse_http_date(h.value, response_time);
    } else if (http::iequals(h.name, "last-modified") && !r.last_modified) {
      r.last_modified = http::parse_http_date(h.value, response_time);
    } else if (http::iequals(h.name, "etag")) {
      r.has_etag = true;
    } else if (http::iequals(h.name, "age")) {
      r.age_value = parse_delta_seconds(http::trim_ows(h.value)).value_or(0);
    }
  }
  return r;
}

std::vector<std::string> tags_of(const http::MessageHead& response) {
  std::vector<std::string> tags;
  for (const auto& h : response.headers) {
    char separator = 0;
    if (http::iequals(h.name, "surrogate-key")) separator = ' ';
    if (http::iequals(h.name, "cache-tag")) separator = ',';
    if (separator == 0) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      size_t end = rest.find(separator);
      std::string_view tag = http::trim_ows(rest.substr(0, end));
      if (!tag.empty()) tags.emplace_back(tag);
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
  }
  return tags;
}

bool kept_on_update(std::string_view name) {
  return http::is_hop_by_hop(name, {}) || http::iequals(name, "content-length") ||
         http::iequals(name, "content-encoding") || http::iequals(name, "age");
}

void parse_field_lines(std::string_view lines, std::vector<http::Header>& out) {
  out.clear();
  while (!lines.empty()) {
    size_t end = lines.find("\r\n");
    std::string_view line = lines.substr(0, end);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos)
      out.push_back({line.substr(0, colon), http::trim_ows(line.substr(colon + 1))});
    if (end == std::string_view::npos) break;
    lines.remove_prefix(end + 2);
  }
}

std::string updated_fields(std::string_view stored_lines, const http::MessageHead& update) {
  auto replaced = [&](std::string_view name) {
    if (kept_on_update(name)) return false;
    for (const auto& h : update.headers) {
      if (http::iequals(h.name, name)) return true;
    }
    return false;
  };
  std::vector<http::Header> stored;
  parse_field_lines(stored_lines, stored);
  std::string out;
  auto append = [&](const http::Header& h) {
    out.append(h.name);
    out.append(": ");
    out.append(h.value);
    out.append("\r\n");
  };
  for (const auto& h : stored) {
    if (!replaced(h.name)) append(h);
  }
  for (const auto& h : update.headers) {
    if (!kept_on_update(h.name)) append(h);
  }
  return out;
}

}  // namespace ballast::cache
