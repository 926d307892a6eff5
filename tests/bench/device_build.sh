#!/usr/bin/env bash
# Builds reclab_core + reclab-cli (no Qt) against the CUDA LibTorch of the Python on a GPU
# machine and trains NeuMF there on the CPU and the GPU. Header-only dependencies and SQLite
# can come in a prefix folder given as $1 (include/, lib/, share/cmake/), for machines without
# Debian's packages; MovieLens-100K as $2. RECLAB_DEVICE_CHECKS=0 builds only.
set -euo pipefail
cd "$(dirname "$0")/../.."
DEPS=${1:-}
DATA=${2:-sample}
TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))'
PREFIX="$TORCH_PREFIX${DEPS:+;$DEPS}"
cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DRECLAB_WITH_GUI=OFF -DRECLAB_BUILD_TESTS=OFF \
  -DCMAKE_PREFIX_PATH="$PREFIX" ${DEPS:+-DSQLite3_INCLUDE_DIR=$DEPS/include -DSQLite3_LIBRARY=$DEPS/lib/libsqlite3.so}
cmake --build build-cuda --parallel "$(nproc)" -- -k 0
export LD_LIBRARY_PATH="${DEPS:+$DEPS/lib:}${LD_LIBRARY_PATH:-}"
CLI=build-cuda/app/reclab-cli
[ "${RECLAB_DEVICE_CHECKS:-1}" = 0 ] && exit 0
$CLI train --data "$DATA" --model neumf --epochs 3 --device cpu --threads 1 --json --db /tmp/cpu.db
$CLI train --data "$DATA" --model neumf --epochs 3 --device cuda --json --db /tmp/gpu.db
$CLI train --data "$DATA" --model mf --epochs 3 --device cuda --json --db /tmp/gpu.db
$CLI train --data "$DATA" --model neumf --epochs 1 --device cuda:7 --db /tmp/gpu.db || echo "exit $? for a missing GPU (expected 2)"
