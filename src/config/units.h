#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ballast::config {

// "500ms", "30s", "5m", "1h", "1d", "1m30s" -> milliseconds. A bare number is rejected:
// units are required so that "30" is never misread as ms or s.
std::optional<int64_t> parse_duration_ms(std::string_view text);

// A command-line duration, in seconds: the configuration's forms ("30s", "500ms", "1m30s"),
// or a bare number of seconds ("30", "0.5"), which command lines have always taken. Negative,
// NaN, infinite and out-of-range values are rejected.
std::optional<double> parse_command_line_seconds(std::string_view text);

// "512", "32KiB", "1MiB", "2GiB", "10kB", "1MB" -> bytes.
std::optional<uint64_t> parse_size(std::string_view text);

// An HTTP status matcher, "200", "200-399" or "200,302-308" -> inclusive ranges; false
// (with `error` saying why) when malformed.
bool parse_status_matcher(std::string_view text, std::vector<std::pair<int, int>>* out,
                          std::string* error);

}  // namespace ballast::config
