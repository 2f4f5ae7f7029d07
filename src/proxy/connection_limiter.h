#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/socket_address.h"
#include "core/thread_annotations.h"

namespace ballast::proxy {

// A listener's connection limits, shared by every worker: the connections open on it, in
// all and per client address. One limiter per listener name lives across reloads (a reload
// changes its limits, never its counts), so connections accepted before a reload still
// count after it.
class ConnectionLimiter : public std::enable_shared_from_this<ConnectionLimiter> {
 public:
  enum class Verdict { kAdmitted, kListenerFull, kClientFull };

  // A connection's place under the limits, given back when it is destroyed (or reset).
  class Admission {
   public:
    Admission() = default;
    ~Admission() { reset(); }
    Admission(Admission&& other) noexcept { *this = std::move(other); }
    Admission& operator=(Admission&& other) noexcept;
    void reset();

   private:
    friend class ConnectionLimiter;
    std::shared_ptr<ConnectionLimiter> limiter_;
    std::string client_;
    bool per_client_ = false;  // counted in the per-client table
  };

  // 0: no limit.
  void set_limits(uint64_t max_connections, uint32_t max_per_client);
  // Counts the connection when admitted (its place is in `*admission`).
  Verdict admit(const core::SocketAddress& client, Admission* admission);

 private:
  void release(const Admission& admission);
  std::atomic<uint64_t> max_connections_{0};
  std::atomic<uint32_t> max_per_client_{0};
  std::atomic<uint64_t> open_{0};
  // Used only while a per-client limit is set: accepting and closing a connection then
  // take this lock once each (never a request).
  core::Mutex mu_;
  std::unordered_map<std::string, uint32_t> per_client_ GUARDED_BY(mu_);
};

}  // namespace ballast::proxy
