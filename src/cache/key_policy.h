#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "http/headers.h"

namespace ballast::cache {

// What makes two requests the same cache entry, beyond their host and path (CloudFront's
// cache policy). Everything left out of the key is also left out of what the target can
// vary on without saying so in Vary: a rule that keys on no query string must only front
// content that does not depend on it.
struct KeyPolicy {
  enum class Query {
    kAll,     // the query string as the client sent it
    kNone,    // no query string
    kOnly,    // only the parameters named in `query_names`, in the client's order
    kExcept,  // all but the parameters named in `query_names`
  };
  Query query = Query::kAll;
  std::vector<std::string> query_names;
  std::vector<std::string> headers;  // request header fields whose values join the key
  std::vector<std::string> cookies;  // cookie names whose values join the key
};

// The key of a request under `policy`, written into `out` (cleared first; its memory is the
// caller's, kept from request to request): the host lower-cased, the path, the chosen query,
// then the chosen header and cookie values. Different parts cannot run into each other.
void build_key(const KeyPolicy& policy, std::string_view host, std::string_view target,
               const std::vector<http::Header>& headers, std::string& out);

// The URL an entry is purged by: host lower-cased, then the request target as it was sent
// ("example.com/a/b?c=d").
void build_url(std::string_view host, std::string_view target, std::string& out);

}  // namespace ballast::cache
