#!/usr/bin/env bash
# Benchmark: `crcr simulate --count N --output FILE`, signed pull_request deliveries per second
# and peak memory for N = 1,000 to 20,000 (memory should not grow with N), beside a baseline run
# in the same job: the same bodies signed by `openssl dgst -sha256 -hmac` in a shell loop, on a
# sample (the way people sign test deliveries today).
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

printf '%-8s %10s %14s %12s %12s\n' count seconds deliveries/s peak_kb avg_body_kb
for n in 1000 5000 20000; do
  start=$(date +%s%N)
  peak=$(/usr/bin/time -f %M "$crcr" simulate pull_request synchronize --count "$n" --output "$tmp/$n.jsonl" 2>&1 >/dev/null | tail -1)
  end=$(date +%s%N)
  seconds=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.3f", ns / 1e9 }')
  body_kb=$(python3 -c 'import json, sys
lines = open(sys.argv[1]).readlines()
print("%.1f" % (sum(len(json.loads(l)["body"]) for l in lines) / len(lines) / 1024))' "$tmp/$n.jsonl")
  printf '%-8s %10s %14.0f %12s %12s\n' "$n" "$seconds" "$(awk -v n="$n" -v s="$seconds" 'BEGIN { print n / s }')" "$peak" "$body_kb"
  rate_crcr=$(awk -v n="$n" -v s="$seconds" 'BEGIN { print n / s }')
done

# Baseline: sign 200 of the same bodies with openssl, one process per body.
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
rate_base=$(awk -v n="$sample" -v ns=$((end - start)) 'BEGIN { print n / (ns / 1e9) }')
echo
printf 'baseline (openssl dgst -hmac per body, %d bodies): %.0f signatures/s\n' "$sample" "$rate_base"
printf 'crcr at 20000: %.0f complete deliveries/s (%.0fx the baseline); target 20000/s\n' "$rate_crcr" \
  "$(awk -v a="$rate_crcr" -v b="$rate_base" 'BEGIN { print a / b }')"
