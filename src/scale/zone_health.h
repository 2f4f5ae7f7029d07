#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ballast::scale {

// Which of a group's zones to launch in. A zone where a launch failed, or where an instance
// in service failed its health checks, is impaired for a while: launches go to the other
// zones (as AWS launches in an unaffected Availability Zone), so capacity comes back where it
// can serve, and zone rebalancing does not push instances back into it. The while doubles
// with each failure in a row, from 30 s up to 10 min; when it ends, the zone is tried again,
// and an instance there that comes into service clears it. Pure: the caller's clock.
class ZoneHealth {
 public:
  void failed(const std::string& zone, const std::string& why, int64_t now_ms);
  void served(const std::string& zone);  // an instance there came into service
  bool impaired(const std::string& zone, int64_t now_ms) const;
  // No failure there since an instance last came into service: the group's launch back-off
  // (for failures elsewhere) does not hold launches to it.
  bool clean(const std::string& zone) const { return zones_.count(zone) == 0; }
  // The zones of `zones` that are not impaired (all of them when every one is: then
  // launches go on, backing off, rather than stop).
  std::vector<std::string> usable(const std::vector<std::string>& zones, int64_t now_ms) const;

  struct Impairment {
    std::string zone;
    int failures = 0;
    int64_t until_ms = 0;  // monotonic
    std::string why;
  };
  std::vector<Impairment> impaired_now(int64_t now_ms) const;

  static constexpr int64_t kFirstMs = 30'000;
  static constexpr int64_t kLongestMs = 600'000;

 private:
  std::map<std::string, Impairment> zones_;
};

}  // namespace ballast::scale
