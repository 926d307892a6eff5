#!/usr/bin/env bash
# Installs what is missing, builds, and opens the RecLab workbench on the bundled sample data.
# Extra arguments go to the workbench (for example: --data ../shared/datasets/ml-100k).
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
exec ./build/app/reclab "$@"
