#pragma once
// Clang's thread-safety analysis (-Wthread-safety): a lock is declared with the data it
// guards, and the compiler checks every access. Every clang build runs the analysis
// (`make test`'s sanitizer builds are clang's); GCC sees plain code.
//
// Use core::Mutex and core::MutexLock rather than std::mutex: libstdc++'s mutex carries no
// annotations, so the analysis could not see it (scripts/check-thread-safety.sh refuses one).
#include <mutex>

#if defined(__clang__)
#define BALLAST_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define BALLAST_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) BALLAST_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY BALLAST_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) BALLAST_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) BALLAST_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) BALLAST_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) BALLAST_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) BALLAST_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) BALLAST_THREAD_ANNOTATION(release_capability(__VA_ARGS__))

namespace ballast::core {

// A std::mutex the analysis knows.
class CAPABILITY("mutex") Mutex {
 public:
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// Holds a Mutex for its scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~MutexLock() RELEASE() { mu_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

}  // namespace ballast::core
