#include "core/time_zone.h"

#include <algorithm>
#include <fstream>
#include <iterator>

namespace ballast::core {

namespace {

int64_t be(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  if (bytes == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' ||
           c == '_' || c == '-' || c == '+';
  });
}

// The header's six counts: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt.
struct Counts {
  int64_t isut, isstd, leap, time, type, chars;
  size_t data_bytes(int time_size) const {
    return static_cast<size_t>(time * time_size + time + type * 6 + chars + leap * (time_size + 4) +
                               isstd + isut);
  }
};

Counts read_counts(const unsigned char* header) {
  const unsigned char* c = header + 20;
  return Counts{be(c, 4), be(c + 4, 4), be(c + 8, 4), be(c + 12, 4), be(c + 16, 4), be(c + 20, 4)};
}

}  // namespace

std::optional<TimeZone> TimeZone::load(const std::string& name, std::string* error,
                                       const std::string& directory) {
  TimeZone tz;
  tz.name_ = name;
  if (name == "UTC" || name == "Etc/UTC") return tz;
  if (!valid_name(name)) {
    *error = "\"" + name + "\" is not a time zone name (such as Europe/Paris or UTC)";
    return std::nullopt;
  }
  std::ifstream in(directory + "/" + name, std::ios::binary);
  std::vector<unsigned char> data((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) data.clear();
  if (data.size() < 44 || std::string(data.begin(), data.begin() + 4) != "TZif") {
    *error = "unknown time zone \"" + name + "\" (no tz database file " + directory + "/" + name +
             "; is tzdata installed?)";
    return std::nullopt;
  }
  if (data[4] < '2') {
    *error = "time zone file for \"" + name + "\" is TZif version 1, which is not supported";
    return std::nullopt;
  }
  // Skip the 32-bit body to the 64-bit header and body.
  size_t v2 = 44 + read_counts(data.data()).data_bytes(4);
  if (data.size() < v2 + 44) {
    *error = "time zone file for \"" + name + "\" is truncated";
    return std::nullopt;
  }
  Counts c = read_counts(data.data() + v2);
  size_t body = v2 + 44;
  if (data.size() < body + c.data_bytes(8) || c.type < 1) {
    *error = "time zone file for \"" + name + "\" is truncated";
    return std::nullopt;
  }
  const unsigned char* times = data.data() + body;
  const unsigned char* indices = times + c.time * 8;
  const unsigned char* types = indices + c.time;
  auto offset_of = [&](int64_t type) { return static_cast<int32_t>(be(types + type * 6, 4)); };
  tz.initial_offset_ = offset_of(0);
  for (int64_t i = 0; i < c.time; ++i) {
    int64_t type = indices[i];
    if (type >= c.type) {
      *error = "time zone file for \"" + name + "\" is corrupt";
      return std::nullopt;
    }
    tz.transitions_.push_back(be(times + i * 8, 8));
    tz.offsets_.push_back(offset_of(type));
  }
  return tz;
}

int32_t TimeZone::offset_at(int64_t unix_seconds) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), unix_seconds);
  if (it == transitions_.begin()) return initial_offset_;
  return offsets_[static_cast<size_t>(it - transitions_.begin() - 1)];
}

}  // namespace ballast::core
