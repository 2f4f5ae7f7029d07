#pragma once
#include <bitset>
#include <ctime>
#include <optional>
#include <string>

namespace ballast::core {

// A cron schedule of five fields, "minute hour day-of-month month day-of-week", each
// "*", a value, a range "a-b", a step "*/n" or "a-b/n", or a list of those joined by
// commas; months and weekdays may be named (jan, mon). As in Vixie cron, when both day
// fields are restricted a day matching either one matches.
class CronSchedule {
 public:
  // nullopt with `error` saying which field is wrong and why.
  static std::optional<CronSchedule> parse(const std::string& text, std::string* error);

  // Whether the minute that `local` (broken-down local time) falls in is scheduled.
  bool matches(const std::tm& local) const;

 private:
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool any_day_ = true;      // day-of-month is "*"
  bool any_weekday_ = true;  // day-of-week is "*"
};

}  // namespace ballast::core
