#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace ballast::core {

class TimerQueue;
class Timer;

// Timers of one duration, in deadline order (internal to TimerQueue).
struct TimerList {
  int64_t duration_ms = 0;
  Timer* head = nullptr;
  Timer* tail = nullptr;
  size_t count = 0;
};

// An intrusive timer. The owner embeds it and gives a callback; arming and cancelling
// are O(1) and never allocate once the queue has seen the timer's duration.
class Timer {
 public:
  using Callback = void (*)(void* arg);
  Timer(Callback cb, void* arg) : cb_(cb), arg_(arg) {}
  ~Timer() { cancel(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  bool armed() const { return list_ != nullptr; }
  int64_t deadline_ms() const { return deadline_ms_; }
  void cancel();

 private:
  friend class TimerQueue;
  using List = TimerList;
  Callback cb_;
  void* arg_;
  int64_t deadline_ms_ = 0;
  List* list_ = nullptr;
  Timer* prev_ = nullptr;
  Timer* next_ = nullptr;
};

// Timers grouped by duration. A proxy uses a handful of distinct timeouts (header, idle,
// connect, request), and within one duration deadlines are armed in increasing order, so
// each group is a FIFO list that stays sorted without a heap: O(1) arm, cancel and expiry.
class TimerQueue {
 public:
  TimerQueue() = default;
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // REQUIRES: duration_ms >= 0 and `now_ms` never decreases between calls.
  void arm(Timer& timer, int64_t duration_ms, int64_t now_ms);
  // Runs callbacks of every timer whose deadline is <= now. Returns how many ran.
  size_t expire(int64_t now_ms);
  // Milliseconds until the earliest deadline (0 if overdue), or -1 when nothing is armed.
  int64_t next_timeout_ms(int64_t now_ms) const;
  size_t armed_count() const;

 private:
  std::vector<std::unique_ptr<TimerList>> lists_;
};

}  // namespace ballast::core
