#!/usr/bin/env bash
# Clang's thread-safety analysis over every translation unit of src/ and tests/support, with
# the flags the build uses (compile_commands.json of BUILD_DIR), and a guard that every lock
# is one the analysis can see (core::Mutex, not std::mutex). Run by `make test`.
set -euo pipefail
BUILD_DIR=${1:-build}
cd "$(dirname "$0")/.."

# Locks the analysis cannot see: libstdc++'s mutex and lock types carry no annotations.
if grep -rnE 'std::(mutex|shared_mutex|recursive_mutex|lock_guard|unique_lock|scoped_lock)' \
     src tests --include='*.h' --include='*.cc' | grep -v 'src/core/thread_annotations.h'; then
  echo "check-thread-safety: use core::Mutex and core::MutexLock (src/core/thread_annotations.h)" \
       "so that clang can check what each lock guards" >&2
  exit 1
fi

[ -f "$BUILD_DIR/compile_commands.json" ] || {
  echo "check-thread-safety: no $BUILD_DIR/compile_commands.json; build first" >&2
  exit 1
}
# Each compile command of ballast's own code (its libraries, the program, the tests' support
# library), as clang syntax-only with the analysis as an error; the options GCC knows and
# clang does not are dropped. In a unity build (the default) a command compiles a batch of
# files, named by its target's folder: .../CMakeFiles/TARGET.dir/Unity/unity_N_cxx.cxx.
python3 - "$BUILD_DIR/compile_commands.json" >"$BUILD_DIR/thread-safety-commands.txt" <<'PY'
import json, shlex, sys

def ours(f):
    if "/Unity/" in f:
        target = f.split("/CMakeFiles/")[-1].split(".dir/")[0]
        return target == "ballast" or target.startswith("ballast_")
    return ("/src/" in f or "/tests/support/" in f) and f.endswith(".cc")

for entry in json.load(open(sys.argv[1])):
    f = entry["file"]
    if not ours(f):
        continue
    args = shlex.split(entry["command"])[1:]
    keep = []
    skip_next = False
    for a in args:
        if skip_next:
            skip_next = False
            continue
        if a in ("-o", "-MF", "-MT", "-MQ"):
            skip_next = True
            continue
        if a in ("-c", "-MD", "-Werror", "-Wno-restrict") or a.startswith("-fsanitize"):
            continue
        keep.append(a)
    keep = [a for a in keep if a != f]
    print(shlex.join(["clang++", "-fsyntax-only", "-Wthread-safety", "-Werror=thread-safety",
                      "-Wno-unknown-warning-option"] + keep + [f]))
PY
count=$(wc -l <"$BUILD_DIR/thread-safety-commands.txt")
# Two at a time, the machine's size; any finding fails the run with clang's file:line.
if ! tr '\n' '\0' <"$BUILD_DIR/thread-safety-commands.txt" |
     xargs -0 -P 2 -n 1 bash -c 'eval "$0" 2>&1 | grep -E "error: " -A3 && exit 255 || exit 0'; then
  echo "check-thread-safety: clang's thread-safety analysis found the problems above" >&2
  exit 1
fi
echo "check-thread-safety: $count translation units analysed, no finding"
