#pragma once
#include <string>

#include "core/socket_address.h"

namespace ballast::http {

// "http://HOST[:PORT][/PATH]", as webhooks and `ballast load` take them.
struct HttpUrl {
  std::string host;             // as written, for the Host header ("example.com:8080")
  core::SocketAddress address;  // resolved now (a name is looked up once, here)
  std::string path;             // "/" when none
};

// False with `error` saying what is wrong (https is not supported).
bool parse_http_url(const std::string& url, HttpUrl* out, std::string* error);

}  // namespace ballast::http
