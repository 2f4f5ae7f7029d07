#pragma once
#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/thread_annotations.h"
#include "core/timer_queue.h"

namespace ballast::core {

// Something registered with the loop for readiness events on a file descriptor.
class IoHandler {
 public:
  virtual ~IoHandler() = default;
  virtual void on_io(uint32_t events) = 0;
};

// One epoll loop per thread. File descriptors are registered edge-triggered for both
// directions once (as nginx does), so the request path never calls epoll_ctl; handlers
// track readiness themselves and read/write until EAGAIN or a short count.
class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Registers `fd` for edge-triggered EPOLLIN|EPOLLOUT|EPOLLRDHUP.
  bool add(int fd, IoHandler* handler);
  bool add_level_triggered(int fd, uint32_t events, IoHandler* handler);
  void remove(int fd);
  // Changes what an added fd reports (edge-triggered): the kernel relay keeps only hang-ups
  // of the sockets whose bytes it moves, so their traffic wakes nobody.
  bool watch(int fd, uint32_t events, IoHandler* handler);
  static constexpr uint32_t kAllEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP;

  // Runs until stop() is called (from any thread).
  void run();
  void stop();
  bool stopping() const { return stop_.load(std::memory_order_acquire); }

  // Runs `fn` on the loop's thread at its next iteration. Thread-safe; not for the
  // request path (it takes a mutex): meant for control messages such as shutdown.
  void post(std::function<void()> fn);

  // Time at the start of the current iteration; cheap, avoids a clock call per event.
  int64_t now_ms() const { return now_ms_; }
  void update_time();
  TimerQueue& timers() { return timers_; }

  // Calls handler->on_io(0) after this iteration's events, without waiting for epoll.
  // For a handler that stopped while it could still make progress (it yielded to be
  // fair to other connections): with edge-triggered readiness no new event would come.
  // The handler must stay alive until then (handlers are freed through defer_delete,
  // which runs after these calls).
  void resume_soon(IoHandler* handler) { resume_.push_back(handler); }

  // Objects that close during event dispatch are destroyed after the batch, so a later
  // event in the same batch never touches freed memory.
  void defer_delete(std::function<void()> fn) { deferred_.push_back(std::move(fn)); }

 private:
  class Waker;
  void run_posted();

  int epfd_;
  int wake_fd_;
  std::atomic<bool> stop_{false};
  int64_t now_ms_ = 0;
  TimerQueue timers_;
  std::vector<std::function<void()>> deferred_;
  std::vector<IoHandler*> resume_;
  std::vector<IoHandler*> resuming_;
  // post() is called from other threads.
  Mutex posted_mu_;
  std::vector<std::function<void()>> posted_ GUARDED_BY(posted_mu_);
};

}  // namespace ballast::core
