#!/usr/bin/env bash
# Configures (once) and builds crcr incrementally.
#   scripts/build.sh                      -> build/ (Release, warnings as errors)
#   scripts/build.sh build-asan -DCRCR_SANITIZE=address,undefined
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
if [ ! -f "$dir/build.ninja" ]; then
  [ $# -gt 0 ] || set -- -DCMAKE_BUILD_TYPE=Release
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
fi
cmake --build "$dir" -- -j"$(nproc)" | grep -vE '^(\[[0-9]+/[0-9]+\] |ninja: no work to do|-- )' || true
test "${PIPESTATUS[0]}" -eq 0
