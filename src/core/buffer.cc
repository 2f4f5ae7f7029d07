#include "core/buffer.h"

#include <algorithm>
#include <cassert>

namespace ballast::core {

std::unique_ptr<char[]> BufferPool::acquire() {
  if (free_.empty()) return std::unique_ptr<char[]>(new char[kBlockSize]);
  auto block = std::move(free_.back());
  free_.pop_back();
  return block;
}

void BufferPool::release(std::unique_ptr<char[]> block) {
  if (free_.size() < max_free_) free_.push_back(std::move(block));
}

void Buffer::allocate(size_t min_capacity) {
  size_t cap = std::max(min_capacity, BufferPool::kBlockSize);
  std::unique_ptr<char[]> fresh;
  if (cap == BufferPool::kBlockSize && pool_ != nullptr) {
    fresh = pool_->acquire();
  } else {
    // Round large requests up to a multiple of the block size to limit regrowth.
    cap = (cap + BufferPool::kBlockSize - 1) / BufferPool::kBlockSize * BufferPool::kBlockSize;
    fresh = std::unique_ptr<char[]>(new char[cap]);
  }
  size_t n = size();
  if (n > 0) memcpy(fresh.get(), data_.get() + head_, n);
  std::unique_ptr<char[]> old = std::move(data_);
  size_t old_capacity = capacity_;
  data_ = std::move(fresh);
  capacity_ = cap;
  head_ = 0;
  tail_ = n;
  if (old && old_capacity == BufferPool::kBlockSize && pool_ != nullptr)
    pool_->release(std::move(old));
}

void Buffer::ensure_tail_room(size_t n) {
  if (!data_) {
    allocate(n);
    return;
  }
  if (tail_room() >= n) return;
  if (capacity_ - size() >= n) {
    size_t len = size();
    memmove(data_.get(), data_.get() + head_, len);
    head_ = 0;
    tail_ = len;
    return;
  }
  allocate(size() + n);
}

void Buffer::consume(size_t n) {
  assert(n <= size());
  head_ += n;
  if (head_ == tail_) head_ = tail_ = 0;
}

void Buffer::append(std::string_view s) {
  if (s.empty()) return;  // an empty view may hold a null pointer, which memcpy must not get
  ensure_tail_room(s.size());
  memcpy(data_.get() + tail_, s.data(), s.size());
  tail_ += s.size();
}

void Buffer::append_char(char c) {
  ensure_tail_room(1);
  data_[tail_++] = c;
}

void Buffer::append_decimal(uint64_t v) {
  char tmp[24];
  size_t i = sizeof(tmp);
  do {
    tmp[--i] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  append(tmp + i, sizeof(tmp) - i);
}

void Buffer::append_hex(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char tmp[24];
  size_t i = sizeof(tmp);
  do {
    tmp[--i] = kDigits[v & 0xf];
    v >>= 4;
  } while (v != 0);
  append(tmp + i, sizeof(tmp) - i);
}

void Buffer::release() {
  if (!data_) return;
  if (capacity_ == BufferPool::kBlockSize && pool_ != nullptr) pool_->release(std::move(data_));
  data_.reset();
  capacity_ = head_ = tail_ = 0;
}

}  // namespace ballast::core
