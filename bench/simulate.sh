#!/usr/bin/env bash
# Benchmark: `crcr simulate --count N --output FILE`, signed pull_request deliveries (both
# signatures, as GitHub sends them) for N = 1,000 to 20,000, in CPU time (user + sys: other load
# on the machine does not change it much, where it changes wall time a lot) and peak memory
# (which should not grow with N). Beside it, in the same run:
# - the floor: HMAC-SHA256 of the same bodies by `openssl mac` over all of them at once (every
#   delivery must be signed), its start-up subtracted;
# - what people do today: `openssl dgst -sha256 -hmac` in a shell loop, one process per body, on
#   a sample.
# Then the goals of issue #22 with met/missed: at least 20,000 deliveries/s on 2 cores (the CPU
# time of a delivery, two cores busy), at most 2.5x the floor's CPU time. Exits 1 when one is
# missed.
#   bench/simulate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
command -v openssl >/dev/null || apt-get install -y -qq openssl >/dev/null
scripts/build.sh build
crcr=$PWD/build/crcr
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CRCR_WEBHOOK_SECRET="bench secret"

# cpu CMD...: runs CMD; prints "CPU_SECONDS PEAK_KB WALL_SECONDS".
cpu() {
  /usr/bin/time -f '%U %S %M %e' -o "$tmp/time" "$@" >/dev/null 2>&1
  awk '{ printf "%.3f %d %.3f\n", $1 + $2, $3, $4 }' "$tmp/time"
}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
printf '%-8s %10s %12s %12s %12s %10s\n' count cpu_s us/delivery wall_s deliveries/s peak_kb
for n in 1000 5000 20000; do
  read -r cpu_s peak wall < <(cpu "$crcr" simulate pull_request synchronize --count "$n" \
    --output "$tmp/$n.jsonl")
  us=$(awk -v c="$cpu_s" -v n="$n" 'BEGIN { printf "%.1f", c / n * 1e6 }')
  printf '%-8s %10s %12s %12s %12.0f %10s\n' "$n" "$cpu_s" "$us" "$wall" \
    "$(awk -v n="$n" -v w="$wall" 'BEGIN { print n / w }')" "$peak"
done

# The floor: the 20,000 bodies in one file, HMAC-SHA256 over all of it.
python3 -c 'import json, sys
with open(sys.argv[2], "wb") as out:
    for line in open(sys.argv[1]):
        out.write(json.loads(line)["body"].encode())' "$tmp/20000.jsonl" "$tmp/bodies"
: >"$tmp/empty"
read -r floor_all _ _ < <(cpu openssl mac -digest SHA256 -macopt "key:$CRCR_WEBHOOK_SECRET" -in "$tmp/bodies" HMAC)
read -r floor_start _ _ < <(cpu openssl mac -digest SHA256 -macopt "key:$CRCR_WEBHOOK_SECRET" -in "$tmp/empty" HMAC)
floor_us=$(awk -v a="$floor_all" -v b="$floor_start" 'BEGIN { printf "%.1f", (a - b) / 20000 * 1e6 }')
body_kb=$(awk -v s="$(stat -c %s "$tmp/bodies")" 'BEGIN { printf "%.1f", s / 20000 / 1024 }')

# What people do today: one openssl process per body.
sample=200
python3 -c 'import json, sys
for i, l in enumerate(open(sys.argv[1])):
    if i == int(sys.argv[3]): break
    open("%s/body-%d.json" % (sys.argv[2], i), "w").write(json.loads(l)["body"])' "$tmp/1000.jsonl" "$tmp" "$sample"
start=$(date +%s%N)
for i in $(seq 0 $((sample - 1))); do
  openssl dgst -sha256 -hmac "$CRCR_WEBHOOK_SECRET" "$tmp/body-$i.json" >/dev/null
done
end=$(date +%s%N)
rate_loop=$(awk -v n="$sample" -v ns=$((end - start)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')

echo
echo "bodies: $body_kb KB on average"
echo "floor: HMAC-SHA256 of the same bodies (openssl mac, one process): $floor_us us of CPU a body"
echo "today: openssl dgst -hmac per body in a shell loop ($sample bodies): $rate_loop signatures/s (wall)"
echo "before issue #22: 86 us of CPU a delivery, one core (11,700/s a core)"
echo "machine: load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"

missed=0
goal() { # MET DESCRIPTION
  if [ "$1" = 1 ]; then echo "met:    $2"; else echo "MISSED: $2"; missed=1; fi
}
check() { awk "BEGIN { exit !($1) }" && echo 1 || echo 0; }
echo
rate2=$(awk -v u="$us" 'BEGIN { printf "%.0f", 2 / (u / 1e6) }')
goal "$(check "$rate2 >= 20000")" \
  "20,000 deliveries at $us us of CPU each: $rate2 deliveries/s on 2 busy cores (goal: at least 20,000/s)"
goal "$(check "$us <= 2.5 * $floor_us")" \
  "$(awk -v u="$us" -v f="$floor_us" 'BEGIN { printf "%.2f", u / f }')x the CPU of the floor's HMAC-SHA256 ($us vs $floor_us us; goal: at most 2.5x)"
exit "$missed"
