#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace ballast::cache {

// RFC 9110 13.1.1 / 13.1.3 as a cache answers a client from a stored response: true when
// the client's copy is current and a 304 is the answer. If-None-Match (weak comparison, "*"
// matches any) takes precedence; If-Modified-Since counts only without it.
bool not_modified(std::string_view if_none_match, std::string_view if_modified_since,
                  std::string_view etag, std::optional<int64_t> last_modified);

// One byte range of a representation, inclusive (RFC 9110 14.1.2).
struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;
};
enum class RangeAnswer {
  kWhole,          // no Range, one this cache does not serve in parts, or If-Range failed
  kPart,           // 206 with the range
  kUnsatisfiable,  // 416
};
// RFC 9110 14.2 / 13.1.5 for a stored response of `length` bytes: a single range ("bytes=
// 0-99", "bytes=100-", "bytes=-100") is served as a part; several ranges get the whole
// representation (which the RFC allows); If-Range must match the strong ETag or equal the
// Last-Modified date exactly, or the whole is sent.
RangeAnswer choose_range(std::string_view range, std::string_view if_range, std::string_view etag,
                         std::string_view last_modified, uint64_t length, ByteRange* out);

}  // namespace ballast::cache
