#include "cache/vary.h"

#include <cctype>

namespace ballast::cache {

namespace {

// Calls `fn` with each comma-separated element of `list`, trimmed; empty ones skipped.
template <typename Fn>
void for_each_element(std::string_view list, Fn fn) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view element = http::trim_ows(list.substr(start, comma - start));
    if (!element.empty()) fn(element);
    start = comma + 1;
  }
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<std::string> vary_selection(const std::vector<std::string_view>& vary_lines,
                                          const std::vector<http::Header>& request_headers) {
  std::string selection;
  bool star = false;
  for (std::string_view line : vary_lines) {
    for_each_element(line, [&](std::string_view name) {
      if (name == "*") star = true;
      selection += lower(name);
      selection += ':';
      bool first = true;
      for (const auto& h : request_headers) {
        if (!http::iequals(h.name, name)) continue;
        for_each_element(h.value, [&](std::string_view value) {
          if (!first) selection += ',';
          selection += value;
          first = false;
        });
      }
      selection += '\n';
    });
  }
  if (star) return std::nullopt;
  return selection;
}

}  // namespace ballast::cache
