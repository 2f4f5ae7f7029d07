#pragma once
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace ballast::core {

// A per-thread free list of fixed-size memory blocks, so connections that come and go
// (and keep-alive connections that go idle) do not hit the allocator for every buffer.
class BufferPool {
 public:
  static constexpr size_t kBlockSize = 32 * 1024;
  explicit BufferPool(size_t max_free_blocks = 1024) : max_free_(max_free_blocks) {}
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  std::unique_ptr<char[]> acquire();
  void release(std::unique_ptr<char[]> block);
  size_t free_blocks() const { return free_.size(); }

 private:
  size_t max_free_;
  std::vector<std::unique_ptr<char[]>> free_;
};

// A linear byte buffer: bytes are appended at the tail and consumed from the head.
// Memory is taken from a BufferPool on first use and handed back by release(), so an
// idle connection holds no buffer memory. It grows past the pool block size only when
// asked to (a large request head), up to whatever the caller allows.
class Buffer {
 public:
  explicit Buffer(BufferPool* pool) : pool_(pool) {}
  ~Buffer() { release(); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  const char* data() const { return data_.get() + head_; }
  char* data() { return data_.get() + head_; }
  size_t size() const { return tail_ - head_; }
  bool empty() const { return head_ == tail_; }
  size_t capacity() const { return capacity_; }
  std::string_view view() const { return {data(), size()}; }

  // Writable space at the tail, after moving unread bytes to the front if that helps.
  char* write_ptr() { return data_.get() + tail_; }
  size_t tail_room() const { return capacity_ - tail_; }
  // Makes at least `n` bytes writable at the tail (compacting, then growing if needed).
  void ensure_tail_room(size_t n);
  // Space that can be made writable without growing.
  size_t free_space() const { return capacity_ - size(); }
  void commit(size_t n) { tail_ += n; }
  void consume(size_t n);

  void append(std::string_view s);
  void append(const char* p, size_t n) { append(std::string_view(p, n)); }
  void append_char(char c);
  void append_decimal(uint64_t v);
  void append_hex(uint64_t v);

  // Returns memory to the pool. Only valid when empty (callers check).
  void release();
  bool has_memory() const { return data_ != nullptr; }

 private:
  void allocate(size_t min_capacity);

  BufferPool* pool_;
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t head_ = 0;
  size_t tail_ = 0;
};

}  // namespace ballast::core
