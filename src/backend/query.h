#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace ballast::backend {

// The value of `key` in the query string of a request target ("/x?a=1&b=2"), or nullopt.
std::optional<std::string_view> query_param(std::string_view target, std::string_view key);
// The same, as a non-negative integer; nullopt when absent or not a number.
std::optional<uint64_t> query_number(std::string_view target, std::string_view key);

}  // namespace ballast::backend
