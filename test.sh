#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite headless through ctest.
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
export QT_QPA_PLATFORM=offscreen
cd "${RECLAB_BUILD_DIR:-build}"
ctest --output-on-failure --timeout 900 "$@"
