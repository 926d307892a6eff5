#!/usr/bin/env bash
# Shared set-up for ./run.sh and ./test.sh: install the Debian 12 packages RecLab needs (only
# those missing), then configure and build in build/. Idempotent; fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")"

# Build and runtime dependencies. libopenblas0-pthread makes LibTorch's BLAS calls use
# OpenBLAS instead of the reference BLAS (matrix products several times faster). python3-torch
# (the same LibTorch) lets the tests load exported TorchScript models with torch.jit.load.
PACKAGES=(
  build-essential cmake ninja-build pkg-config
  qt6-base-dev qt6-charts-dev qt6-svg-dev libqt6opengl6-dev libgl-dev
  libtorch-dev libopenblas0-pthread
  libsqlite3-dev nlohmann-json3-dev libcli11-dev libfast-float-dev libboost-dev
  libcurl4-openssl-dev libssl-dev libzip-dev libfasttext-dev libgloo-dev
  fonts-dejavu-core
  python3-torch
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

BUILD_DIR=${RECLAB_BUILD_DIR:-build}
JOBS=${RECLAB_JOBS:-$(nproc)}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$BUILD_DIR" --parallel "$JOBS"
