#pragma once
#include <atomic>
#include <cstdint>

namespace ballast::core {

// The faults a rule injects into its own traffic (Envoy's fault filter), for users' failure
// drills: a delay before the request goes to its target, an abort answered with a status, or
// a reset connection, each for a share of requests. Every worker reads them on the request
// path without a lock; the admin API changes them at run time (a reload sets the file's
// values again). Shares are in millionths, so 0.01% is representable.
struct FaultSettings {
  static constexpr uint32_t kWhole = 1000000;  // 100%

  std::atomic<int64_t> delay_ms{0};
  std::atomic<uint32_t> delay_share{0};
  std::atomic<int> abort_status{503};
  std::atomic<uint32_t> abort_share{0};
  std::atomic<uint32_t> reset_share{0};

  static uint32_t share_of_percent(double percent) {
    return static_cast<uint32_t>(percent * (kWhole / 100.0) + 0.5);
  }
  static double percent_of_share(uint32_t share) { return share * (100.0 / kWhole); }
};

}  // namespace ballast::core
