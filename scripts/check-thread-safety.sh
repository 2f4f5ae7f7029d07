#!/usr/bin/env bash
# The guard of clang's thread-safety analysis: every lock in src/ and tests/ must be one the
# analysis can see (core::Mutex, not std::mutex). The analysis itself is a warning of every
# clang build (-Wthread-safety in CMakeLists.txt), and `make test`'s sanitizer builds are
# clang's; this runs before them.
set -euo pipefail
cd "$(dirname "$0")/.."

# Locks the analysis cannot see: libstdc++'s mutex and lock types carry no annotations.
if grep -rnE 'std::(mutex|shared_mutex|recursive_mutex|lock_guard|unique_lock|scoped_lock)' \
     src tests fuzz --include='*.h' --include='*.cc' | grep -v 'src/core/thread_annotations.h'; then
  echo "check-thread-safety: use core::Mutex and core::MutexLock (src/core/thread_annotations.h)" \
       "so that clang can check what each lock guards" >&2
  exit 1
fi
echo "check-thread-safety: every lock is core::Mutex, which clang's analysis checks"
