#include "core/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "core/clock.h"
#include "core/log.h"

namespace ballast::core {

EventLoop::EventLoop() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + strerror(errno));
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // nullptr marks the waker
  epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  update_time();
}

EventLoop::~EventLoop() {
  for (auto& fn : deferred_) fn();
  close(wake_fd_);
  close(epfd_);
}

bool EventLoop::add(int fd, IoHandler* handler) {
  epoll_event ev{};
  ev.events = kAllEvents | EPOLLET;
  ev.data.ptr = handler;
  return epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool EventLoop::add_level_triggered(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool EventLoop::watch(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events | EPOLLET;
  ev.data.ptr = handler;
  return epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::remove(int fd) {
  epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::update_time() {
  now_ms_ = monotonic_ms();
}

void EventLoop::stop() {
  stop_.store(true, std::memory_order_release);
  uint64_t one = 1;
  ssize_t ignored = write(wake_fd_, &one, sizeof(one));
  (void)ignored;
}

void EventLoop::post(std::function<void()> fn) {
  {
    MutexLock lock(posted_mu_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  ssize_t ignored = write(wake_fd_, &one, sizeof(one));
  (void)ignored;
}

void EventLoop::run_posted() {
  uint64_t value;
  while (read(wake_fd_, &value, sizeof(value)) > 0) {
  }
  std::vector<std::function<void()>> batch;
  {
    MutexLock lock(posted_mu_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
}

void EventLoop::run() {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  while (!stopping()) {
    int64_t wait = resume_.empty() ? timers_.next_timeout_ms(now_ms_) : 0;
    int n = epoll_wait(epfd_, events, kMaxEvents, wait < 0 ? -1 : static_cast<int>(wait));
    update_time();
    if (n < 0) {
      if (errno == EINTR) continue;
      LOG_ERROR("epoll_wait: %s", strerror(errno));
      break;
    }
    bool posted = false;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == nullptr) {
        posted = true;
        continue;
      }
      static_cast<IoHandler*>(events[i].data.ptr)->on_io(events[i].events);
    }
    // Posted messages (a new configuration, say) run between batches, never while later
    // events of this batch may still name a handler they replace.
    if (posted) run_posted();
    timers_.expire(now_ms_);
    if (!resume_.empty()) {
      resuming_.swap(resume_);  // handlers may ask again: that waits for the next iteration
      for (IoHandler* h : resuming_) h->on_io(0);
      resuming_.clear();
    }
    if (!deferred_.empty()) {
      std::vector<std::function<void()>> batch;
      batch.swap(deferred_);
      for (auto& fn : batch) fn();
    }
  }
}

}  // namespace ballast::core
