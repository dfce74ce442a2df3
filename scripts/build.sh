#!/usr/bin/env bash
# Configures (once) and builds crcr incrementally; exits non-zero, with CMake's or the compiler's
# message, whenever configuring or building fails.
#   scripts/build.sh                    -> build/: GCC, Release, warnings as errors
#   scripts/build.sh build-clang-asan   -> Clang, Debug, ASan + UBSan, libFuzzer targets (tests/fuzz)
#   scripts/build.sh DIR [CMAKE_ARGS]   -> any other folder, configured with CMAKE_ARGS
# Compiles through ccache when it is installed: CCACHE_BASEDIR makes the cache's keys relative to
# the checkout, so clones and worktrees of crcr share one cache.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
case $dir in
  build) [ $# -gt 0 ] || set -- -DCMAKE_BUILD_TYPE=Release ;;
  build-clang-asan)
    set -- -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DCRCR_SANITIZE=address,undefined \
      -DCRCR_FUZZ=ON "$@" ;;
esac
if [ ! -f "$dir/build.ninja" ]; then
  launcher=()
  if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  cmake -S . -B "$dir" -G Ninja "${launcher[@]}" "$@" >/dev/null
fi
export CCACHE_BASEDIR=$PWD
# Ninja's progress lines are dropped; everything else (the compiler's messages) is shown. The
# braces keep grep's status out of the pipeline's: under pipefail, a failed build fails the script.
cmake --build "$dir" -- -j"$(nproc)" 2>&1 |
  { grep -vE '^(\[[0-9]+/[0-9]+\] |ninja: no work to do|-- )' || true; }
