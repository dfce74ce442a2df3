#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz/ for SECONDS each (default 60), under ASan + UBSan,
# as many at once as there are cores, and prints each target's executions and result. With
# --cpu, SECONDS is CPU time: each target runs until it has had that much, however busy the
# machine (a campaign's length must not depend on what else ran beside it). Inputs
# found that crash, leak, time out (10 s) or exceed 2 GiB are kept under tests/fuzz/crashes/
# (move one to tests/fuzz/regressions/<target>/ once fixed: every build then runs it) and fail
# the run. New corpus entries go to BUILD_DIR/fuzz-corpus/, never into the checked-in seeds.
#   scripts/fuzz.sh [--cpu] [SECONDS] [BUILD_DIR]     (BUILD_DIR: default build-clang-asan)
set -euo pipefail
cd "$(dirname "$0")/.."
cpu_mode=0
[ "${1:-}" = --cpu ] && { cpu_mode=1; shift; }
seconds=${1:-60}
dir=${2:-build-clang-asan}
case $seconds in '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, not '$seconds'" >&2; exit 2 ;; esac
scripts/build.sh "$dir"
grep -q '^CRCR_FUZZ:BOOL=ON' "$dir/CMakeCache.txt" ||
  { echo "fuzz.sh: '$dir' was configured without -DCRCR_FUZZ=ON (Clang)" >&2; exit 2; }

# Each target's seeds are the folders its test fuzz.<target> runs over (tests/fuzz/CMakeLists.txt).
ctest --test-dir "$dir" --show-only=json-v1 -R '^fuzz\.' | python3 -c '
import json, sys
for test in json.load(sys.stdin)["tests"]:
    print(test["name"].split(".", 1)[1], *test["command"][1:], sep="\t")
' >"$dir/fuzz-targets.tsv"
[ -s "$dir/fuzz-targets.tsv" ] || { echo "fuzz.sh: no fuzz targets in '$dir'" >&2; exit 1; }
mkdir -p tests/fuzz/crashes "$dir/fuzz-logs"

stopped=72 # the exit code of a fuzzer stopped by SIGINT (libFuzzer's -interrupted_exit_code; 71 is its OOM)
ticks=$(getconf CLK_TCK)

# watch_cpu PID: sends SIGINT to PID once it has used $seconds of CPU.
watch_cpu() {
  local stat
  while stat=$(cat "/proc/$1/stat" 2>/dev/null); do
    stat=${stat##*) } # the fields after the command name; utime and stime are the 12th and 13th
    read -r -a fields <<<"$stat"
    if [ $(((fields[11] + fields[12]) / ticks)) -ge "$seconds" ]; then
      kill -INT "$1" 2>/dev/null
      return
    fi
    sleep 2
  done
}

# fuzz_one TARGET SEED_DIR...: one campaign; its last line is the summary.
fuzz_one() {
  local target=$1
  shift
  mkdir -p "$dir/fuzz-corpus/$target"
  local log="$dir/fuzz-logs/$target.log" status=0 TIMEFORMAT='%0R %0U %0S'
  # The CPU time is printed too: on a busy machine it says how much fuzzing the wall time bought.
  # In --cpu mode the wall time is unbounded and a watcher stops the fuzzer with SIGINT once its
  # CPU time (utime + stime of /proc/PID/stat, in clock ticks) reaches SECONDS; libFuzzer then
  # prints its final stats and exits with -interrupted_exit_code.
  local limit=$seconds
  [ "$cpu_mode" -eq 1 ] && limit=0
  { time {
    "$dir/tests/fuzz/fuzz_$target" -max_total_time="$limit" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -interrupted_exit_code=$stopped -artifact_prefix="tests/fuzz/crashes/$target-" \
      "$dir/fuzz-corpus/$target" "$@" >"$log" 2>&1 &
    local pid=$!
    [ "$cpu_mode" -eq 1 ] && watch_cpu "$pid" &
    wait "$pid" || status=$?
  }; } 2>"$log.cpu"
  [ "$status" -eq "$stopped" ] && [ "$cpu_mode" -eq 1 ] && status=0
  local runs wall cpu
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  read -r wall cpu < <(awk '{ print $1, $2 + $3 }' "$log.cpu")
  if [ "$status" -eq 0 ]; then
    printf '%-12s %10s runs in %s s (%s s of CPU), no crash\n' "$target" "${runs:-?}" "$wall" "$cpu"
  else
    printf '%-12s FAILED (exit %d) after %s runs: see %s and tests/fuzz/crashes/\n' \
      "$target" "$status" "${runs:-?}" "$log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -n 5 | sed 's/^/    /'
    return 1
  fi
}
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

echo "fuzzing $(wc -l <"$dir/fuzz-targets.tsv") targets for $seconds s$([ "$cpu_mode" -eq 1 ] && echo ' of CPU') each, $(nproc) at a time"
running=0 failed=0
while IFS=$'\t' read -r -a args; do
  if [ "$running" -ge "$(nproc)" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
  fuzz_one "${args[@]}" &
  running=$((running + 1))
done <"$dir/fuzz-targets.tsv"
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
[ "$failed" -eq 0 ] || { echo "fuzz.sh: a target failed (its inputs are kept in tests/fuzz/crashes/)" >&2; exit 1; }
