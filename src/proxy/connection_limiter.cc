#include "proxy/connection_limiter.h"

namespace ballast::proxy {

ConnectionLimiter::Admission& ConnectionLimiter::Admission::operator=(Admission&& other) noexcept {
  if (this != &other) {
    reset();
    limiter_ = std::move(other.limiter_);
    client_ = std::move(other.client_);
    per_client_ = other.per_client_;
    other.limiter_.reset();
  }
  return *this;
}

void ConnectionLimiter::Admission::reset() {
  if (limiter_) limiter_->release(*this);
  limiter_.reset();
}

void ConnectionLimiter::set_limits(uint64_t max_connections, uint32_t max_per_client) {
  max_connections_.store(max_connections, std::memory_order_relaxed);
  max_per_client_.store(max_per_client, std::memory_order_relaxed);
}

ConnectionLimiter::Verdict ConnectionLimiter::admit(const core::SocketAddress& client,
                                                    Admission* admission) {
  uint64_t max = max_connections_.load(std::memory_order_relaxed);
  uint64_t now = open_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (max != 0 && now > max) {
    open_.fetch_sub(1, std::memory_order_relaxed);
    return Verdict::kListenerFull;
  }
  uint32_t per_client = max_per_client_.load(std::memory_order_relaxed);
  if (per_client != 0) {
    std::string client_ip = client.ip_string();
    core::MutexLock lock(mu_);
    uint32_t& count = per_client_[client_ip];
    if (count >= per_client) {
      open_.fetch_sub(1, std::memory_order_relaxed);
      return Verdict::kClientFull;
    }
    ++count;
    admission->per_client_ = true;
    admission->client_ = std::move(client_ip);
  }
  admission->limiter_ = shared_from_this();
  return Verdict::kAdmitted;
}

void ConnectionLimiter::release(const Admission& admission) {
  open_.fetch_sub(1, std::memory_order_relaxed);
  if (!admission.per_client_) return;
  core::MutexLock lock(mu_);
  auto it = per_client_.find(admission.client_);
  if (it != per_client_.end() && --it->second == 0) per_client_.erase(it);
}

}  // namespace ballast::proxy
