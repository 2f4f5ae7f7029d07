#include "core/cron.h"

#include <charconv>
#include <cstring>
#include <vector>

namespace ballast::core {

namespace {

struct Field {
  const char* name;
  int min;
  int max;
  const char* const* names;  // names for min, min+1, ... (null: numbers only)
};

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr Field kFields[] = {
    {"minute", 0, 59, nullptr},       {"hour", 0, 23, nullptr},
    {"day of month", 1, 31, nullptr}, {"month", 1, 12, kMonthNames},
    {"day of week", 0, 7, kDayNames},  // 7 is Sunday too
};

std::optional<int> parse_value(const std::string& text, const Field& f) {
  if (f.names != nullptr && text.size() == 3) {
    int count = f.max - f.min + 1 - (f.max == 7 ? 1 : 0);
    for (int i = 0; i < count; ++i) {
      if (strncasecmp(text.c_str(), f.names[i], 3) == 0) return f.min + i;
    }
  }
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == sep) {
      out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// Sets the bits of `field`'s values that `text` selects; false with `error` set.
bool parse_field(const std::string& text, const Field& f, std::vector<bool>* bits,
                 std::string* error) {
  auto fail = [&](const std::string& why) {
    *error = std::string(f.name) + " field \"" + text + "\": " + why;
    return false;
  };
  for (const std::string& part : split(text, ',')) {
    std::string range = part;
    int step = 1;
    if (size_t slash = part.find('/'); slash != std::string::npos) {
      range = part.substr(0, slash);
      auto s = parse_value(part.substr(slash + 1), Field{f.name, 1, 1000, nullptr});
      if (!s || *s < 1) return fail("a step is a whole number of at least 1");
      step = *s;
    }
    int lo = f.min, hi = f.max == 7 ? 6 : f.max;
    if (range != "*") {
      size_t dash = range.find('-');
      auto a = parse_value(range.substr(0, dash), f);
      if (!a) return fail("\"" + range.substr(0, dash) + "\" is not a value");
      lo = hi = *a;
      if (dash != std::string::npos) {
        auto b = parse_value(range.substr(dash + 1), f);
        if (!b) return fail("\"" + range.substr(dash + 1) + "\" is not a value");
        hi = *b;
      } else if (step != 1) {
        hi = f.max;  // "5/15": from 5 on, every 15
      }
      if (lo < f.min || hi > f.max || lo > hi) {
        return fail("values run from " + std::to_string(f.min) + " to " + std::to_string(f.max) +
                    ", low to high");
      }
    }
    for (int v = lo; v <= hi; v += step)
      (*bits)[static_cast<size_t>(v == 7 && f.max == 7 ? 0 : v)] = true;
  }
  return true;
}

}  // namespace

std::optional<CronSchedule> CronSchedule::parse(const std::string& text, std::string* error) {
  std::vector<std::string> fields;
  for (const std::string& f : split(text, ' ')) {
    if (!f.empty()) fields.push_back(f);
  }
  if (fields.size() != 5) {
    *error =
        "a cron expression has five fields (minute hour day-of-month month day-of-week), "
        "found " +
        std::to_string(fields.size());
    return std::nullopt;
  }
  CronSchedule s;
  std::vector<bool> bits[5];
  for (size_t i = 0; i < 5; ++i) {
    bits[i].assign(static_cast<size_t>(kFields[i].max + 1), false);
    if (!parse_field(fields[i], kFields[i], &bits[i], error)) return std::nullopt;
  }
  for (size_t v = 0; v < 60; ++v) s.minutes_[v] = bits[0][v];
  for (size_t v = 0; v < 24; ++v) s.hours_[v] = bits[1][v];
  for (size_t v = 1; v < 32; ++v) s.days_[v] = bits[2][v];
  for (size_t v = 1; v < 13; ++v) s.months_[v] = bits[3][v];
  for (size_t v = 0; v < 7; ++v) s.weekdays_[v] = bits[4][v];
  s.any_day_ = fields[2] == "*";
  s.any_weekday_ = fields[4] == "*";
  return s;
}

bool CronSchedule::matches(const std::tm& t) const {
  if (!minutes_[static_cast<size_t>(t.tm_min)] || !hours_[static_cast<size_t>(t.tm_hour)] ||
      !months_[static_cast<size_t>(t.tm_mon + 1)]) {
    return false;
  }
  bool day = days_[static_cast<size_t>(t.tm_mday)];
  bool weekday = weekdays_[static_cast<size_t>(t.tm_wday)];
  if (any_day_ && any_weekday_) return true;
  if (any_day_) return weekday;
  if (any_weekday_) return day;
  return day || weekday;
}

}  // namespace ballast::core
