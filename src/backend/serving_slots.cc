#include "backend/serving_slots.h"

#include <algorithm>

namespace ballast::backend {

std::unique_ptr<ServingSlots::Claim> ServingSlots::claim(core::EventLoop& loop,
                                                         std::function<void()> granted) {
  std::unique_ptr<Claim> claim(new Claim(*this));
  {
    core::MutexLock lock(mu_);
    if (free_ == 0) {
      waiting_.push_back(Waiter{claim.get(), &loop, std::move(granted)});
      return claim;
    }
    --free_;
  }
  // Posted even when granted at once, so the caller's stack finishes first.
  loop.post(std::move(granted));
  return claim;
}

ServingSlots::Claim::~Claim() {
  slots_.give_back(this);
}

void ServingSlots::give_back(Claim* claim) {
  Waiter next{};
  {
    core::MutexLock lock(mu_);
    auto queued = std::find_if(waiting_.begin(), waiting_.end(),
                               [claim](const Waiter& w) { return w.claim == claim; });
    if (queued != waiting_.end()) {
      // Still waiting, so it held no slot: it leaves the queue, and nothing else changes.
      waiting_.erase(queued);
      return;
    }
    if (waiting_.empty()) {
      ++free_;
      return;
    }
    next = std::move(waiting_.front());
    waiting_.pop_front();
  }
  // The waiter's claim stays valid until its owner drops it, which happens on its own
  // loop, after this post runs or is checked there.
  next.loop->post(std::move(next.granted));
}

}  // namespace ballast::backend
