#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with GCC and runs every test, then
# builds with Clang under AddressSanitizer + UndefinedBehaviorSanitizer and runs every test again.
# Each run ends by comparing the doctest cases the binary knows with those ctest ran (exactly
# once each), and each fuzz target runs for CRCR_FUZZ_SECONDS (default 20). The time of each
# phase is printed at the end, also when a phase fails.
set -euo pipefail
cd "$(dirname "$0")/.."

timings=()
started=$SECONDS
report() {
  local status=$?
  printf '\n== time per phase\n'
  printf '%s\n' "${timings[@]}"
  printf '%5d s  total%s\n' $((SECONDS - started)) "$([ "$status" -eq 0 ] || echo ", failed")"
}
trap report EXIT

# phase NAME COMMAND...: runs COMMAND, then records how long it took.
phase() {
  local name=$1 start=$SECONDS
  shift
  printf '\n== %s\n' "$name"
  "$@"
  timings+=("$(printf '%5d s  %s' $((SECONDS - start)) "$name")")
}

# run_tests DIR [VAR=VALUE...]: every ctest entry of DIR, then the count of doctest cases run.
run_tests() {
  local dir=$1
  shift
  rm -f "$dir/cases-ran.txt"
  env "$@" CRCR_TEST_CASES_RAN="$PWD/$dir/cases-ran.txt" \
    ctest --test-dir "$dir" --output-on-failure -j"$(nproc)"
  tests/check_cases_ran.sh "$dir/tests/crcr_tests" "$dir/cases-ran.txt"
}

phase "packages" scripts/deps.sh
phase "build with GCC (build/)" scripts/build.sh build
phase "tests (build/)" run_tests build
phase "build with Clang, ASan + UBSan (build-clang-asan/)" scripts/build.sh build-clang-asan
phase "tests under ASan + UBSan (build-clang-asan/)" run_tests build-clang-asan \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
phase "fuzz each parser for ${CRCR_FUZZ_SECONDS:=20} s (build-clang-asan/)" \
  scripts/fuzz.sh "$CRCR_FUZZ_SECONDS" build-clang-asan
