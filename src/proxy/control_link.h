#pragma once
#include <cstdint>
#include <string>

namespace ballast::proxy {

// What a worker tells the control thread. Implementations must be thread-safe: workers
// call from their own threads.
class ControlLink {
 public:
  virtual ~ControlLink() = default;
  // Worker `worker` has no request left on a draining target, as of membership `version`.
  virtual void target_drained(unsigned worker, const std::string& group, uint64_t target_id,
                              uint64_t version) = 0;
};

}  // namespace ballast::proxy
