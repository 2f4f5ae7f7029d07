#include "config/units.h"

#include <charconv>
#include <limits>

namespace ballast::config {

namespace {
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads a decimal number at the front of `s` and removes it.
std::optional<uint64_t> take_number(std::string_view& s) {
  size_t n = 0;
  while (n < s.size() && is_digit(s[n])) ++n;
  if (n == 0) return std::nullopt;
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + n, value);
  if (ec != std::errc()) return std::nullopt;
  s.remove_prefix(n);
  return value;
}

bool checked_mul_add(uint64_t* acc, uint64_t value, uint64_t unit) {
  if (value != 0 && unit > std::numeric_limits<uint64_t>::max() / value) return false;
  uint64_t product = value * unit;
  if (*acc > std::numeric_limits<uint64_t>::max() - product) return false;
  *acc += product;
  return true;
}
}  // namespace

std::optional<int64_t> parse_duration_ms(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t total = 0;
  while (!text.empty()) {
    auto value = take_number(text);
    if (!value) return std::nullopt;
    uint64_t unit = 0;
    if (text.starts_with("ms")) {
      unit = 1;
      text.remove_prefix(2);
    } else if (text.starts_with("s")) {
      unit = 1000;
      text.remove_prefix(1);
    } else if (text.starts_with("m")) {
      unit = 60 * 1000;
      text.remove_prefix(1);
    } else if (text.starts_with("h")) {
      unit = 3600 * 1000;
      text.remove_prefix(1);
    } else if (text.starts_with("d")) {
      unit = 24ull * 3600 * 1000;
      text.remove_prefix(1);
    } else {
      return std::nullopt;
    }
    if (!checked_mul_add(&total, *value, unit)) return std::nullopt;
  }
  if (total > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(total);
}

std::optional<uint64_t> parse_size(std::string_view text) {
  auto value = take_number(text);
  if (!value) return std::nullopt;
  struct Unit {
    std::string_view suffix;
    uint64_t factor;
  };
  static constexpr Unit kUnits[] = {
      {"", 1},
      {"B", 1},
      {"KiB", 1ull << 10},
      {"MiB", 1ull << 20},
      {"GiB", 1ull << 30},
      {"kB", 1000},
      {"KB", 1000},
      {"MB", 1000 * 1000},
      {"GB", 1000 * 1000 * 1000},
  };
  for (const auto& u : kUnits) {
    if (text == u.suffix) {
      uint64_t out = 0;
      if (!checked_mul_add(&out, *value, u.factor)) return std::nullopt;
      return out;
    }
  }
  return std::nullopt;
}

}  // namespace ballast::config
