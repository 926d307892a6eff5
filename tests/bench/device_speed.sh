#!/usr/bin/env bash
# On a GPU machine: builds core + CLI against the CUDA LibTorch of the Python there
# (device_build.sh, which also checks cpu/cuda/cuda:N on the sample), writes an ML-20M-shaped
# ratings file (20,000,263 ratings, 26,744 movies, about 129k users) and measures NeuMF's
# training throughput on the GPU at several batch sizes beside plain PyTorch's
# (neumf_gpu_ref.py, same shapes), then one whole epoch with evaluation.
# $1: the header-only/SQLite prefix as for device_build.sh; $2: seconds timed per batch size;
# $3: batch sizes (default 256,1024,4096,16384). RECLAB_DEVICE_CHECKS=0 skips device_build.sh's
# runs on the sample; RECLAB_CPU_SPEED=1 adds the CPU's figures.
set -euo pipefail
cd "$(dirname "$0")/../.."
DEPS=${1:-}
SECONDS_PER_BATCH=${2:-15}
BATCHES=${3:-256,1024,4096,16384}
tests/bench/device_build.sh "$DEPS"
export LD_LIBRARY_PATH="${DEPS:+$DEPS/lib:}${LD_LIBRARY_PATH:-}"
CLI=build-cuda/app/reclab-cli
DATA=$(mktemp -d)
c++ -O2 -std=c++17 -o build-cuda/gen-ml25m tests/bench/gen_ml25m.cpp
TIMEFORMAT="%R s"
time build-cuda/gen-ml25m "$DATA/ratings.csv" 20000263 20 26744 131262
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
$CLI bench speed --data "$DATA" --device cuda --batch "$BATCHES" --seconds "$SECONDS_PER_BATCH" --json
python3 tests/bench/neumf_gpu_ref.py --device cuda --batch "$BATCHES" --seconds "$SECONDS_PER_BATCH"
if [ "${RECLAB_CPU_SPEED:-0}" = 1 ]; then
  $CLI bench speed --data "$DATA" --device cpu --batch "$BATCHES" --seconds "$SECONDS_PER_BATCH" --json
fi
time $CLI train --data "$DATA" --model neumf --no-pretrain --factors 8 \
  --mlp-layers 64 32 16 8 --negatives 4 --batch 16384 --epochs 1 --device cuda --db "$DATA/runs.db"
