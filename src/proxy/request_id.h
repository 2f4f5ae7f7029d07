#pragma once
#include <cstdint>

namespace ballast::proxy {

// Generates X-Request-Id values: random version-4 UUIDs from a per-worker generator
// (xoshiro256**), seeded from the kernel. No locks, no syscalls per request.
class RequestIdGenerator {
 public:
  RequestIdGenerator();
  // Writes 36 characters ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx") to `out`.
  void next(char out[36]);

 private:
  uint64_t next_u64();
  uint64_t s_[4];
};

}  // namespace ballast::proxy
