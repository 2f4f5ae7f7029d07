#pragma once
#include <functional>
#include <utility>
#include <vector>

namespace ballast::core {

// A count of things still to happen (each worker applying a change, say), and what waits
// for the last of them. Single-threaded: used on one event loop, which others reach
// through EventLoop::post.
class Completion {
 public:
  explicit Completion(int pending) : pending_(pending) {}
  Completion(const Completion&) = delete;
  Completion& operator=(const Completion&) = delete;

  bool done() const { return pending_ <= 0; }

  // One of the awaited things happened; the last one runs the waiters.
  void count_down() {
    if (--pending_ != 0) return;
    std::vector<std::function<void()>> waiters;
    waiters.swap(waiters_);
    for (auto& fn : waiters) fn();
  }

  // Runs `fn` once everything happened: now, when it already has.
  void then(std::function<void()> fn) {
    if (done()) {
      fn();
      return;
    }
    waiters_.push_back(std::move(fn));
  }

 private:
  int pending_;
  std::vector<std::function<void()>> waiters_;
};

}  // namespace ballast::core
