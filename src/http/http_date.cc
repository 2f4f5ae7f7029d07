#include "http/http_date.h"

#include <array>
#include <cstdio>
#include <ctime>

namespace ballast::http {

namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};

// A small cursor over the text: each read either matches and advances, or fails.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool literal(std::string_view l) {
    if (s_.substr(pos_, l.size()) != l) return false;
    pos_ += l.size();
    return true;
  }
  // Exactly `digits` digits (or 1-2 when `digits` is 0: asctime's space-padded day).
  bool number(int digits, int* out) {
    int n = 0, count = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9' &&
           (digits == 0 ? count < 2 : count < digits)) {
      n = n * 10 + (s_[pos_++] - '0');
      ++count;
    }
    *out = n;
    return digits == 0 ? count > 0 : count == digits;
  }
  bool month(int* out) {
    for (size_t m = 0; m < kMonths.size(); ++m) {
      if (literal(kMonths[m])) {
        *out = static_cast<int>(m);
        return true;
      }
    }
    return false;
  }
  bool one_of(const auto& names) {
    for (std::string_view n : names) {
      if (literal(n)) return true;
    }
    return false;
  }
  bool time(std::tm* tm) {
    return number(2, &tm->tm_hour) && literal(":") && number(2, &tm->tm_min) && literal(":") &&
           number(2, &tm->tm_sec);
  }
  bool done() const { return pos_ == s_.size(); }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

bool valid(const std::tm& tm) {
  // Leap seconds (60) are allowed by the grammar; timegm folds them into the next minute.
  return tm.tm_mday >= 1 && tm.tm_mday <= 31 && tm.tm_hour <= 23 && tm.tm_min <= 59 &&
         tm.tm_sec <= 60;
}

bool imf_fixdate(std::string_view text, std::tm* tm) {
  Reader r(text);
  int year = 0;
  if (!(r.one_of(kDays) && r.literal(", ") && r.number(2, &tm->tm_mday) && r.literal(" ") &&
        r.month(&tm->tm_mon) && r.literal(" ") && r.number(4, &year) && r.literal(" ") &&
        r.time(tm) && r.literal(" GMT") && r.done())) {
    return false;
  }
  tm->tm_year = year - 1900;
  return true;
}

bool rfc850(std::string_view text, std::tm* tm, int64_t now_unix) {
  Reader r(text);
  int yy = 0;
  if (!(r.one_of(kLongDays) && r.literal(", ") && r.number(2, &tm->tm_mday) && r.literal("-") &&
        r.month(&tm->tm_mon) && r.literal("-") && r.number(2, &yy) && r.literal(" ") &&
        r.time(tm) && r.literal(" GMT") && r.done())) {
    return false;
  }
  // RFC 9110 5.6.7: a two-digit year more than 50 years in the future is in the past century.
  std::time_t now = static_cast<std::time_t>(now_unix > 0 ? now_unix : std::time(nullptr));
  std::tm today{};
  gmtime_r(&now, &today);
  int century = (today.tm_year + 1900) / 100 * 100;
  int year = century + yy;
  if (year > today.tm_year + 1900 + 50) year -= 100;
  tm->tm_year = year - 1900;
  return true;
}

bool asctime_date(std::string_view text, std::tm* tm) {
  Reader r(text);
  int year = 0;
  if (!(r.one_of(kDays) && r.literal(" ") && r.month(&tm->tm_mon) && r.literal(" "))) return false;
  r.literal(" ");  // a one-digit day is padded with a space
  if (!(r.number(0, &tm->tm_mday) && r.literal(" ") && r.time(tm) && r.literal(" ") &&
        r.number(4, &year) && r.done())) {
    return false;
  }
  tm->tm_year = year - 1900;
  return true;
}

}  // namespace

std::optional<int64_t> parse_http_date(std::string_view text, int64_t now_unix) {
  std::tm tm{};
  bool parsed = imf_fixdate(text, &tm);
  if (!parsed) {
    tm = std::tm{};
    parsed = rfc850(text, &tm, now_unix);
  }
  if (!parsed) {
    tm = std::tm{};
    parsed = asctime_date(text, &tm);
  }
  if (!parsed || !valid(tm)) return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

std::string format_http_date(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                kDays[static_cast<size_t>(tm.tm_wday)].data(), tm.tm_mday,
                kMonths[static_cast<size_t>(tm.tm_mon)].data(), tm.tm_year + 1900, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace ballast::http
