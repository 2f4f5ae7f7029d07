#pragma once
#include <string>

#include "core/socket_address.h"

namespace ballast::http {

// "http://HOST[:PORT][/PATH]", as webhooks and `ballast load` take them; "https://..." where
// the caller has TLS to offer.
struct HttpUrl {
  std::string host;             // as written, for the Host header ("example.com:8080")
  core::SocketAddress address;  // resolved now (a name is looked up once, here)
  std::string path;             // "/" when none
  bool https = false;
};

enum class Schemes { kHttpOnly, kHttpOrHttps };
// False with `error` saying what is wrong.
bool parse_http_url(const std::string& url, HttpUrl* out, std::string* error,
                    Schemes schemes = Schemes::kHttpOnly);

}  // namespace ballast::http
