#include "http/url.h"

namespace ballast::http {

bool parse_http_url(const std::string& url, HttpUrl* out, std::string* error, Schemes schemes) {
  bool https = url.rfind("https://", 0) == 0;
  if (https && schemes == Schemes::kHttpOnly) {
    *error = "\"" + url + "\": expected http://HOST:PORT/PATH (https is not supported here)";
    return false;
  }
  if (!https && url.rfind("http://", 0) != 0) {
    *error = "\"" + url + "\": expected http" +
             std::string(schemes == Schemes::kHttpOnly ? "" : "[s]") + "://HOST:PORT/PATH";
    return false;
  }
  std::string rest = url.substr(https ? 8 : 7);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out->host = authority;
  out->path = slash == std::string::npos ? "/" : rest.substr(slash);
  out->https = https;
  // No port ("host", "[::1]"): the scheme's.
  if (authority.find(':') == std::string::npos || authority.back() == ']')
    authority += https ? ":443" : ":80";
  auto address = core::SocketAddress::parse(authority, error);
  if (!address) {
    *error = "\"" + url + "\": " + *error;
    return false;
  }
  out->address = *address;
  return true;
}

}  // namespace ballast::http
