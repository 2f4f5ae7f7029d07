#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cache/freshness.h"
#include "http/message_head.h"

namespace ballast::cache {

// What RFC 9111 needs to know of a response head (Cache-Control, Date, Expires, Age,
// Last-Modified, ETag), with the times the request left and the response came (Unix
// seconds).
StoredResponse stored_response_of(const http::MessageHead& response, int64_t request_time,
                                  int64_t response_time);

// The tags a response is purged by: Surrogate-Key (space-separated, as Fastly and Varnish
// have it) and Cache-Tag (comma-separated, as Cloudflare has it).
std::vector<std::string> tags_of(const http::MessageHead& response);

// Whether a response field is one that a 304's fields never replace in a stored response
// (RFC 9111 3.2: the framing and the hop-by-hop fields; Content-Encoding and
// Content-Length describe the stored bytes, which the 304 does not carry).
bool kept_on_update(std::string_view name);

// Header lines ("Name: value\r\n", as stored) as fields viewing into `lines`, into `out`
// (cleared first); a line without a colon is skipped.
void parse_field_lines(std::string_view lines, std::vector<http::Header>& out);

// The fields of a stored response after a 304 (RFC 9111 4.3.4): every field of `update`
// replaces the stored fields of its name, except those kept_on_update(); the rest stay.
// Both as header lines ("Name: value\r\n"); returns the new lines.
std::string updated_fields(std::string_view stored_lines, const http::MessageHead& update);

}  // namespace ballast::cache
