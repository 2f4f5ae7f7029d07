#pragma once
#include <cstdint>
#include <string>

namespace ballast::core {

// "2026-11-23T13:41:27Z": UTC, as CloudWatch and the API write times.
std::string iso8601_utc(int64_t unix_seconds);

}  // namespace ballast::core
