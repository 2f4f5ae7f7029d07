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

std::optional<double> parse_command_line_seconds(std::string_view text) {
  if (auto ms = parse_duration_ms(text)) return static_cast<double>(*ms) / 1000;
  // A bare number: digits with at most one decimal point (no sign, exponent, "nan", "inf").
  if (text.empty() || text.size() > 32) return std::nullopt;
  size_t points = 0;
  for (char c : text) {
    if (c == '.')
      ++points;
    else if (!is_digit(c))
      return std::nullopt;
  }
  if (points > 1 || text == ".") return std::nullopt;
  double seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  // A bound that keeps every later conversion to milliseconds (int64) defined: 100 years.
  constexpr double kMaxSeconds = 100.0 * 365 * 24 * 3600;
  if (seconds > kMaxSeconds) return std::nullopt;
  return seconds;
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

namespace ballast::config {

bool parse_status_matcher(std::string_view text, std::vector<std::pair<int, int>>* out,
                          std::string* error) {
  std::vector<std::pair<int, int>> ranges;
  auto number = [](std::string_view s, int* v) {
    if (s.size() != 3) return false;
    *v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      *v = *v * 10 + (c - '0');
    }
    return *v >= 100 && *v <= 599;
  };
  while (true) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    size_t dash = item.find('-');
    int lo = 0, hi = 0;
    bool ok = dash == std::string_view::npos ? number(item, &lo) && (hi = lo, true)
                                             : number(item.substr(0, dash), &lo) &&
                                                   number(item.substr(dash + 1), &hi) && lo <= hi;
    if (!ok) {
      *error = "invalid status matcher \"" + std::string(item) +
               "\": expected statuses from 100 to 599 such as 200, 200-399 or 200,302";
      return false;
    }
    ranges.emplace_back(lo, hi);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  *out = std::move(ranges);
  return true;
}

}  // namespace ballast::config
