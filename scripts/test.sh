#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test, then builds and runs
# everything again under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

echo "== build and test (build/)"
scripts/build.sh build
ctest --test-dir build --output-on-failure -j"$(nproc)"

echo "== build and test under ASan + UBSan (build-asan/)"
scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DCRCR_SANITIZE=address,undefined
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$(nproc)"
