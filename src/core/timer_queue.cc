#include "core/timer_queue.h"

#include <algorithm>

namespace ballast::core {

void Timer::cancel() {
  if (list_ == nullptr) return;
  if (prev_ != nullptr)
    prev_->next_ = next_;
  else
    list_->head = next_;
  if (next_ != nullptr)
    next_->prev_ = prev_;
  else
    list_->tail = prev_;
  list_->count--;
  list_ = nullptr;
  prev_ = next_ = nullptr;
}

TimerQueue::~TimerQueue() {
  for (auto& list : lists_) {
    while (list->head != nullptr) list->head->cancel();
  }
}

void TimerQueue::arm(Timer& timer, int64_t duration_ms, int64_t now_ms) {
  timer.cancel();
  Timer::List* list = nullptr;
  for (auto& l : lists_) {
    if (l->duration_ms == duration_ms) {
      list = l.get();
      break;
    }
  }
  if (list == nullptr) {
    lists_.push_back(std::make_unique<TimerList>());
    list = lists_.back().get();
    list->duration_ms = duration_ms;
  }
  timer.deadline_ms_ = now_ms + duration_ms;
  timer.list_ = list;
  timer.prev_ = list->tail;
  timer.next_ = nullptr;
  if (list->tail != nullptr)
    list->tail->next_ = &timer;
  else
    list->head = &timer;
  list->tail = &timer;
  list->count++;
}

size_t TimerQueue::expire(int64_t now_ms) {
  size_t ran = 0;
  // Index loop: a callback may arm a timer with a new duration and grow lists_.
  for (size_t i = 0; i < lists_.size(); ++i) {
    while (lists_[i]->head != nullptr && lists_[i]->head->deadline_ms_ <= now_ms) {
      Timer* t = lists_[i]->head;
      t->cancel();
      t->cb_(t->arg_);
      ++ran;
    }
  }
  return ran;
}

int64_t TimerQueue::next_timeout_ms(int64_t now_ms) const {
  int64_t best = -1;
  for (const auto& l : lists_) {
    if (l->head == nullptr) continue;
    int64_t wait = std::max<int64_t>(0, l->head->deadline_ms_ - now_ms);
    if (best < 0 || wait < best) best = wait;
  }
  return best;
}

size_t TimerQueue::armed_count() const {
  size_t n = 0;
  for (const auto& l : lists_) n += l->count;
  return n;
}

}  // namespace ballast::core
