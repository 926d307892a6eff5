#!/usr/bin/env bash
# Builds the libFuzzer targets (clang with AddressSanitizer and UBSan: the CMake option
# RECLAB_FUZZ, in build-fuzz/) and runs each for SECONDS seconds (default 600) with JOBS workers
# (default 1). Not part of ./test.sh: run it on purpose. Needs clang and libclang-rt-14-dev.
#   tests/fuzz/run.sh [SECONDS] [JOBS] [TARGET...]     (default: every target)
# Corpora: tests/fuzz/corpus/<target>.tar.gz (what earlier runs kept, minimised with -merge=1,
# inputs up to 64 KiB), unpacked into build-fuzz/corpus/<target>/ with the seeds of
# tests/fuzz/make_seeds.sh, grown there, and merged back at the end; dictionaries:
# tests/fuzz/<target>.dict. Crashing inputs are left in tests/fuzz/findings/.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN=${1:-600}
JOBS=${2:-1}
shift $(( $# > 2 ? 2 : $# ))
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(fuzz_graph fuzz_delimited fuzz_formats fuzz_prepared fuzz_params fuzz_checkpoint fuzz_manifest)
OUT=build-fuzz
ROOT=$PWD
if [ ! -f "$OUT/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$OUT" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRECLAB_FUZZ=ON \
    -DRECLAB_WITH_GUI=OFF -DRECLAB_BUILD_TESTS=OFF
fi
cmake --build "$OUT" --target "${TARGETS[@]}"
mkdir -p tests/fuzz/findings
# LeakSanitizer's reports of LibTorch's own leaks are suppressed (tests/sanitize/lsan.supp says why).
export LSAN_OPTIONS="suppressions=$ROOT/tests/sanitize/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1"
# Binary seeds (checkpoints, snapshots, trained graphs, prepared files) are made by the tools
# themselves, not committed: tests/fuzz/make_seeds.sh.
[ -d "$OUT/seeds" ] || tests/fuzz/make_seeds.sh "$OUT/seeds"
for target in "${TARGETS[@]}"; do
  work="$OUT/corpus/$target"
  mkdir -p "$work" tests/fuzz/corpus
  [ -f "tests/fuzz/corpus/$target.tar.gz" ] && tar xzf "tests/fuzz/corpus/$target.tar.gz" -C "$work" --strip-components=1
  cp -n "$OUT/seeds/$target"/* "$work"/ 2>/dev/null || true
  dict=()
  [ -f "tests/fuzz/$target.dict" ] && dict=(-dict="$ROOT/tests/fuzz/$target.dict")
  echo "== $target: $SECONDS_TO_RUN s, $JOBS worker(s)"
  parallel=()
  [ "$JOBS" -gt 1 ] && parallel=(-fork="$JOBS")
  (cd "$OUT" && "./tests/fuzz/$target" "corpus/$target" "${dict[@]}" "${parallel[@]}" -max_total_time="$SECONDS_TO_RUN" \
    -max_len=65536 -timeout=20 -rss_limit_mb=3072 \
    -artifact_prefix="$ROOT/tests/fuzz/findings/$target-" -print_final_stats=1 > "$target.log" 2>&1) || {
      echo "$target: FOUND A CRASH (see $OUT/$target.log and tests/fuzz/findings/)"; tail -40 "$OUT/$target.log"; exit 1; }
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|Done [0-9]+ runs" "$OUT/$target.log" | tail -3 || true
  # Keep a minimised corpus of the small inputs in the repository, as one archive.
  rm -rf "$OUT/merged/$target" && mkdir -p "$OUT/merged/$target"
  "$OUT/tests/fuzz/$target" -merge=1 -max_len=65536 "$OUT/merged/$target" "$work" > /dev/null 2>&1 || true
  find "$OUT/merged/$target" -type f -size +64k -delete
  tar czf "tests/fuzz/corpus/$target.tar.gz" -C "$OUT/merged" --sort=name --mtime=@0 --owner=0 --group=0 "$target"
done
echo "all targets ran without findings"
