#include "acme/renewal.h"

#include <algorithm>

namespace ballast::acme {

int64_t renewal_time(int64_t not_before, int64_t not_after, int64_t renew_before_s, double jitter) {
  int64_t lifetime = std::max<int64_t>(0, not_after - not_before);
  int64_t margin = renew_before_s > 0 ? renew_before_s : lifetime / 3;
  auto spread = static_cast<int64_t>(static_cast<double>(margin) / 10 * jitter);
  return not_after - margin - spread;
}

int64_t retry_delay_s(int failures, double jitter) {
  constexpr int64_t kFirst = 60;
  constexpr int64_t kMost = 6 * 3600;
  int64_t delay = kFirst;
  for (int i = 1; i < failures && delay < kMost; ++i) delay *= 2;
  delay = std::min(delay, kMost);
  return delay - static_cast<int64_t>(static_cast<double>(delay) / 10 * jitter);
}

}  // namespace ballast::acme
