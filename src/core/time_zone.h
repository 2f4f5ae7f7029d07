#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ballast::core {

// A time zone read from the system's tz database (/usr/share/zoneinfo, Debian's tzdata),
// for scheduled actions written in local time. GCC 12's standard library has no
// std::chrono::tzdb, and TZ in the environment is process-wide, so the file is read here:
// its transitions (TZif version 2 or later, 64-bit section) give the UTC offset at any
// instant; past the last transition the last offset holds (Debian's files list
// transitions up to 2037).
class TimeZone {
 public:
  // "UTC", or an IANA name such as "Europe/Paris"; nullopt with `error` when unknown.
  static std::optional<TimeZone> load(const std::string& name, std::string* error,
                                      const std::string& directory = "/usr/share/zoneinfo");

  const std::string& name() const { return name_; }
  // Seconds east of UTC at the instant `unix_seconds`.
  int32_t offset_at(int64_t unix_seconds) const;

 private:
  std::string name_;
  std::vector<int64_t> transitions_;  // Unix seconds, ascending
  std::vector<int32_t> offsets_;      // offset from each transition on
  int32_t initial_offset_ = 0;        // before the first transition
};

}  // namespace ballast::core
