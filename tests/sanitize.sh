#!/usr/bin/env bash
# Builds the whole suite with AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/) and
# with ThreadSanitizer (build-tsan/), then runs it through ctest, headless. Not part of
# ./test.sh: each build takes the better part of an hour on 2 cores and the suite runs 2-5 times
# slower under them. Run it before changing threads, memory or parsers.
#   tests/sanitize.sh [address|thread|both] [ctest arguments...]      (default: both)
# LibTorch, Qt and OpenBLAS come from Debian uninstrumented. AddressSanitizer still checks every
# access RecLab makes and every allocation they make through malloc, so it runs the whole suite,
# the workbench's tests included. ThreadSanitizer cannot see their own synchronisation: Qt's
# mutexes and queued signals are invisible to it, so it runs the suite without the workbench
# (RECLAB_WITH_GUI=OFF: core, the CLI, their threads on std::thread and std::mutex). Its reports
# that pass through LibTorch's OpenMP pool, OpenBLAS or QtTest's watchdog are suppressed in
# tests/sanitize/tsan.supp, each with its reason (so a race between RecLab threads that meet
# only inside LibTorch would be hidden too), as are LeakSanitizer's reports of those libraries'
# process-lifetime allocations (lsan.supp). No suppression names RecLab's code. The multi-
# versioned SIMD loops are built plain under ThreadSanitizer (their load-time resolver runs
# before its runtime is up).
set -euo pipefail
cd "$(dirname "$0")/.."
WHICH=${1:-both}
[ $# -gt 0 ] && shift
ROOT=$PWD
run() {
  local kind=$1 dir=$2 gui=$3
  shift 3
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRECLAB_SANITIZE="$kind" -DRECLAB_WITH_GUI="$gui"
  fi
  cmake --build "$dir" --parallel "${RECLAB_JOBS:-$(nproc)}"
  export QT_QPA_PLATFORM=offscreen
  export QTEST_FUNCTION_TIMEOUT=3000000 # QtTest's 5 minutes per test function, times ten
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0"
  export LSAN_OPTIONS="suppressions=$ROOT/tests/sanitize/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$ROOT/tests/sanitize/ubsan.supp"
  # die_after_fork=0: a test process starts many CLI children through QProcess (fork, then only exec
  # in the child) from several threads; ThreadSanitizer otherwise stops a test that starts a thread
  # after such a fork (seen in test_cli: the download test's local server).
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:die_after_fork=0:suppressions=$ROOT/tests/sanitize/tsan.supp"
  (cd "$dir" && ctest --output-on-failure --timeout 3000 "$@")
}
case "$WHICH" in
  address) run address build-asan ON "$@" ;;
  thread) run thread build-tsan OFF "$@" ;;
  both) run address build-asan ON "$@"; run thread build-tsan OFF "$@" ;;
  *) echo "usage: tests/sanitize.sh [address|thread|both] [ctest arguments...]" >&2; exit 2 ;;
esac
