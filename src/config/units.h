#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace ballast::config {

// "500ms", "30s", "5m", "1h", "1d", "1m30s" -> milliseconds. A bare number is rejected:
// units are required so that "30" is never misread as ms or s.
std::optional<int64_t> parse_duration_ms(std::string_view text);

// "512", "32KiB", "1MiB", "2GiB", "10kB", "1MB" -> bytes.
std::optional<uint64_t> parse_size(std::string_view text);

}  // namespace ballast::config
