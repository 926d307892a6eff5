#!/usr/bin/env bash
# Fuzzes the graph loader and analysis with libFuzzer (clang, AddressSanitizer and UBSan) for
# SECONDS seconds (default 600) on the cores given (default 2). Not part of ./test.sh: run it on
# purpose. Needs clang and libclang-rt-14-dev. Crashing inputs are left in tests/fuzz/findings/.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN=${1:-600}
JOBS=${2:-2}
OUT=build-fuzz
mkdir -p "$OUT" tests/fuzz/findings
cmake -DDIR=resources/graphs -DOUT="$OUT/EmbeddedGraphs.cpp" -P cmake/EmbedGraphs.cmake
clang++ -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Icore tests/fuzz/fuzz_graph.cpp core/graph/GraphSpec.cpp core/graph/BlockCatalog.cpp \
  core/graph/GraphAnalysis.cpp core/graph/GraphTemplates.cpp "$OUT/EmbeddedGraphs.cpp" core/util/Error.cpp \
  -o "$OUT/fuzz_graph"
# Seeds: the shipped templates. Work corpus in build-fuzz/corpus (not committed).
mkdir -p "$OUT/corpus"
cp resources/graphs/*.json "$OUT/corpus/"
# libFuzzer writes each job's log (fuzz-N.log) to the working folder: build-fuzz/.
ROOT=$PWD
cd "$OUT"
./fuzz_graph corpus -dict="$ROOT/tests/fuzz/graph.dict" -max_total_time="$SECONDS_TO_RUN" \
  -jobs="$JOBS" -workers="$JOBS" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$ROOT/tests/fuzz/findings/" -print_final_stats=1
