#pragma once
#include <cstddef>
#include <new>
#include <vector>

namespace ballast::core {

// Under AddressSanitizer or ThreadSanitizer memory is not recycled by ballast's own lists:
// a block that went back to malloc is what lets them see a use after free.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kRecycleMemory = false;
#else
inline constexpr bool kRecycleMemory = true;
#endif

// Memory for objects of one size that come and go by the thousand on one thread (a
// Session and an H2Stream per HTTP/2 stream), kept for the next one instead of going back to
// malloc, whose slow path for blocks of a few KiB showed up at 3% of a worker's time. For
// class-specific operator new/delete. Each thread has its own list, so there is no lock;
// memory freed on another thread than it came from simply joins that thread's list.
template <size_t kSize, size_t kMaxFree = 512>
class FreeList {
 public:
  static void* take() {
    if constexpr (!kRecycleMemory) return ::operator new(kSize);
    std::vector<void*>& blocks = list().blocks;
    if (blocks.empty()) return ::operator new(kSize);
    void* p = blocks.back();
    blocks.pop_back();
    return p;
  }
  static void give(void* p) {
    if constexpr (!kRecycleMemory) {
      ::operator delete(p);
      return;
    }
    std::vector<void*>& blocks = list().blocks;
    if (blocks.size() < kMaxFree) {
      blocks.push_back(p);
    } else {
      ::operator delete(p);
    }
  }

 private:
  struct Blocks {
    Blocks() { blocks.reserve(kMaxFree); }
    ~Blocks() {
      for (void* p : blocks) ::operator delete(p);
    }
    std::vector<void*> blocks;
  };
  static Blocks& list() {
    thread_local Blocks blocks;
    return blocks;
  }
};

}  // namespace ballast::core
