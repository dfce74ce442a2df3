#!/usr/bin/env bash
# Benchmark: the CPU that replay's engine spends on each delivery, without a network
# (tests/tools/replay_bench.cpp: every request answered 200 in-process, one event loop, a state
# file and a report as a real run keeps), beside the floor measured in the same run: the
# HMAC-SHA256 of the same bodies plus one copy of their bytes (every delivery must be signed and
# handed over). Goal: at most 2.5x the floor. Prints the figure, the floor, the goal, met or
# MISSED; exits 1 when it is missed.
#   bench/replay_engine.sh [COUNT [ROUNDS]]     (default 5000 5)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
count=${1:-5000}
rounds=${2:-5}
scripts/build.sh build >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CRCR_WEBHOOK_SECRET="bench secret" build/crcr simulate pull_request synchronize --count "$count" \
  --output "$tmp/load.jsonl" --seed 1 2>/dev/null
read -r engine floor n < <(build/tests/replay_bench "$tmp/load.jsonl" "$rounds")
body_kb=$(head -n1 "$tmp/load.jsonl" | python3 -c 'import json,sys; print("%.1f" % (len(json.loads(sys.stdin.readline())["body"]) / 1024))')
echo "replay's engine, $n pull_request deliveries of $body_kb KB, CPU per delivery, best of $rounds ($(nproc) cores, $(date -u +%F))"
printf '  %-52s %8s us\n' "engine (read, parse, sign, request, state, report)" "$engine"
printf '  %-52s %8s us\n' "floor (HMAC-SHA256 + one copy of the body)" "$floor"
ratio=$(awk -v a="$engine" -v b="$floor" 'BEGIN { printf "%.2f", a / b }')
goal "engine/floor ${ratio}x ($engine vs $floor us a delivery); goal <= 2.5x" \
  "$(at_least "$(awk -v b="$floor" 'BEGIN { print 2.5 * b }')" "$engine")"
exit $goal_status
