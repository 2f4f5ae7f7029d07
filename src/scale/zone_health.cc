#include "scale/zone_health.h"

#include <algorithm>

namespace ballast::scale {

void ZoneHealth::failed(const std::string& zone, const std::string& why, int64_t now_ms) {
  Impairment& z = zones_[zone];
  z.zone = zone;
  ++z.failures;
  int64_t length = kFirstMs;
  for (int k = 1; k < z.failures && length < kLongestMs; ++k) length *= 2;
  z.until_ms = now_ms + std::min(length, kLongestMs);
  z.why = why;
}

void ZoneHealth::served(const std::string& zone) {
  zones_.erase(zone);
}

bool ZoneHealth::impaired(const std::string& zone, int64_t now_ms) const {
  auto it = zones_.find(zone);
  return it != zones_.end() && now_ms < it->second.until_ms;
}

std::vector<std::string> ZoneHealth::usable(const std::vector<std::string>& zones,
                                            int64_t now_ms) const {
  std::vector<std::string> out;
  for (const auto& z : zones) {
    if (!impaired(z, now_ms)) out.push_back(z);
  }
  return out.empty() ? zones : out;
}

std::vector<ZoneHealth::Impairment> ZoneHealth::impaired_now(int64_t now_ms) const {
  std::vector<Impairment> out;
  for (const auto& [zone, z] : zones_) {
    if (now_ms < z.until_ms) out.push_back(z);
  }
  return out;
}

}  // namespace ballast::scale
