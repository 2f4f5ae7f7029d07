#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>

#include "core/event_loop.h"
#include "core/thread_annotations.h"

namespace ballast::backend {

// The serving threads of a synchronous application server, as /block uses them: a fixed
// number of slots shared by every connection of the instance, taken first come first served
// from one queue. A request holds a slot for as long as it "blocks", and waits for one while
// all are taken, so an instance serves at most slots x 1000 / ms such requests a second, and
// a request never waits behind another connection's work while a slot is free (which one
// event loop per thread, each owning its own connections, could not promise).
class ServingSlots {
 public:
  explicit ServingSlots(unsigned slots) : free_(slots) {}

  // A request's claim on a slot. Dropping it gives the slot back, or leaves the queue (a
  // claim still queued is one that has no slot yet).
  class Claim {
   public:
    ~Claim();
    Claim(const Claim&) = delete;
    Claim& operator=(const Claim&) = delete;

   private:
    friend class ServingSlots;
    explicit Claim(ServingSlots& slots) : slots_(slots) {}
    ServingSlots& slots_;
  };

  // Calls `granted` on `loop` once a slot is this request's: at once when one is free, else
  // when one is given back. Thread-safe.
  std::unique_ptr<Claim> claim(core::EventLoop& loop, std::function<void()> granted);

 private:
  struct Waiter {
    Claim* claim;
    core::EventLoop* loop;
    std::function<void()> granted;
  };
  // A slot came back, or a claim left: the next waiter gets the slot.
  void give_back(Claim* claim);

  core::Mutex mu_;
  unsigned free_ GUARDED_BY(mu_);
  std::deque<Waiter> waiting_ GUARDED_BY(mu_);
};

}  // namespace ballast::backend
