#pragma once
// The one way ballast reads clocks. Code that promises "the caller's clock" takes the time
// as a parameter instead (tests pass a fake one); these are for the edges that call it.
#include <cstdint>
#include <ctime>

namespace ballast::core {

// Monotonic time in milliseconds; never goes backwards, unaffected by wall-clock changes.
inline int64_t monotonic_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Wall-clock time (Unix epoch) in milliseconds, for times people read.
inline int64_t unix_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Wall-clock time in whole seconds.
inline int64_t unix_seconds() {
  return unix_ms() / 1000;
}

inline int64_t monotonic_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

}  // namespace ballast::core
