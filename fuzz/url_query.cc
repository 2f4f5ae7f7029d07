// Feeds arbitrary request targets, hosts and names to the routing helpers: the path of a
// target (origin or absolute form), a host without its port, query parameters and
// percent-decoding, and a rule's match. Checks what the router relies on: every piece it
// returns lies inside its input, a path never holds the query, decoding never grows.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/message_head.h"
#include "http/percent.h"
#include "proxy/router.h"

namespace {

bool inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

// The next NUL-separated field of `in`, removed from it.
std::string_view take_field(std::string_view& in) {
  size_t end = in.find('\0');
  std::string_view field = in.substr(0, end);
  in.remove_prefix(end == std::string_view::npos ? in.size() : end + 1);
  return field;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ballast;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view target = take_field(in);
  std::string_view host = take_field(in);
  std::string_view name = take_field(in);
  std::string_view pattern = take_field(in);

  std::string_view path = proxy::path_of(target);
  if (!inside(path, target) && path != "/") __builtin_trap();
  if (path.find('?') != std::string_view::npos) __builtin_trap();
  std::string_view bare = proxy::host_without_port(host);
  if (!inside(bare, host)) __builtin_trap();
  std::string_view value;
  if (proxy::find_query_param(target, name, &value) && !inside(value, target)) __builtin_trap();
  for (bool plus : {false, true}) {
    if (http::percent_decode(target, plus).size() > target.size()) __builtin_trap();
  }

  // A rule built from the input, matched against a request built from it too.
  std::string target_text(target), host_text(host);
  http::MessageHead head;
  head.method = "GET";
  head.target = target_text;
  head.host = host_text;
  config::RuleMatch match;
  if (!pattern.empty()) {
    match.host = std::string(pattern);
    match.path_prefix = std::string(pattern);
    match.query.emplace_back(std::string(name), std::string(value));
  }
  (void)proxy::rule_matches(match, head);
  return 0;
}
