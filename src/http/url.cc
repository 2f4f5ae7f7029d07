#include "http/url.h"

namespace ballast::http {

bool parse_http_url(const std::string& url, HttpUrl* out, std::string* error) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) {
    *error = "\"" + url + "\": expected http://HOST:PORT/PATH (https is not supported yet)";
    return false;
  }
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out->host = authority;
  out->path = slash == std::string::npos ? "/" : rest.substr(slash);
  // No port ("host", "[::1]"): HTTP's 80.
  if (authority.find(':') == std::string::npos || authority.back() == ']') authority += ":80";
  auto address = core::SocketAddress::parse(authority, error);
  if (!address) {
    *error = "\"" + url + "\": " + *error;
    return false;
  }
  out->address = *address;
  return true;
}

}  // namespace ballast::http
