#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.h"
#include "http/headers.h"
#include "http/message_head.h"

namespace ballast::proxy {

// The hash that ring_hash and maglev route by: of the source IP, the path, a header or a
// cookie, per the group's hash_on. A request without the header or cookie is hashed by
// its source IP instead, so it still lands on a stable target.
uint64_t request_hash(const config::HashOn& on, const http::MessageHead& request,
                      std::string_view client_ip);

// (The cookie reader is http::find_cookie; the name stays here for the callers.)
using http::find_cookie;

// `text` with every character a cookie name may not hold replaced by "_".
std::string cookie_safe(std::string_view text);
// 16 lower-case hex digits: how stickiness cookies carry an identity hash.
std::string hex_id(uint64_t id);

}  // namespace ballast::proxy
