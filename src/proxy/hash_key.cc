#include "proxy/hash_key.h"

#include <cstdio>

#include "http/headers.h"
#include "lb/hash.h"
#include "proxy/router.h"

namespace ballast::proxy {

uint64_t request_hash(const config::HashOn& on, const http::MessageHead& request,
                      std::string_view client_ip) {
  using Kind = config::HashOn::Kind;
  switch (on.kind) {
    case Kind::kSourceIp:
      break;
    case Kind::kPath:
      return lb::hash_bytes(path_of(request.target));
    case Kind::kHeader: {
      std::string_view v = request.find(on.name);
      if (!v.empty()) return lb::hash_bytes(v);
      break;
    }
    case Kind::kCookie:
      for (const auto& h : request.headers) {
        std::string_view v;
        if (http::iequals(h.name, "cookie") && find_cookie(h.value, on.name, &v)) {
          return lb::hash_bytes(v);
        }
      }
      break;
  }
  return lb::hash_bytes(client_ip);
}

std::string cookie_safe(std::string_view text) {
  std::string out;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    out.push_back(ok ? c : '_');
  }
  return out;
}

std::string hex_id(uint64_t id) {
  char hex[17];
  snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(id));
  return std::string(hex, 16);
}

}  // namespace ballast::proxy
