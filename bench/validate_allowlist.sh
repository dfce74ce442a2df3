#!/usr/bin/env bash
# Benchmark: crcr validate-allowlist against the relay's own way of reading the file (Python +
# PyYAML safe_load, the baseline), on the real allowlist and on generated ones of 10,000 to
# 100,000 entries. Prints wall time (best of N runs) and peak memory for both, per-entry cost to
# show that time and memory grow linearly, and the 5 ms target for the real file.
#   bench/validate_allowlist.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
scripts/deps.sh
command -v /usr/bin/time >/dev/null || { apt-get install -y -qq time >/dev/null; }
scripts/build.sh build
crcr=build/crcr
python=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

generate() { # N FILE: an allowlist with N repositories spread over the four levels
  awk -v n="$1" 'BEGIN {
    print "L1:"; for (i = 0; i < n * 0.7; i++) printf "  - org%d/repo-%d\n", i, i
    print "L2:"; for (; i < n * 0.9; i++) printf "  - org%d/repo-%d\n", i, i
    print "L3:"; for (d = 0; i < n * 0.97; d++) { printf "  dev%d:\n", d
      for (k = 0; k < 10 && i < n * 0.97; k++) { printf "    org%d/repo-%d: [oncall-a, oncall-b]\n", i, i; i++ } }
    print "L4:"; for (; i < n; i++) printf "  - org%d/repo-%d: oncall-a, oncall-b\n", i, i
  }' >"$2"
}

# best_ms CMD...: the best wall time over $runs runs, in milliseconds.
best_ms() {
  local best=$((1 << 62)) start end
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    best=$(((end - start) < best ? (end - start) : best))
  done
  awk -v ns="$best" 'BEGIN { printf "%.2f", ns / 1e6 }'
}

peak_kb() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }

cp tests/data/allowlist/pytorch-2026-08.yml "$tmp/real.yml"
inputs=(real)
for n in 10000 50000 100000; do
  generate "$n" "$tmp/$n.yml"
  inputs+=("$n")
done

printf '%-8s %9s %12s %12s %12s %12s %9s\n' input entries crcr_ms python_ms crcr_kb python_kb speedup
for input in "${inputs[@]}"; do
  file=$tmp/$input.yml
  entries=$(grep -cE '^\s+(- )?[A-Za-z0-9-]+/' "$file")
  c_ms=$(best_ms "$crcr" validate-allowlist "$file")
  p_ms=$(best_ms "$python" -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$file")
  c_kb=$(peak_kb "$crcr" validate-allowlist "$file")
  p_kb=$(peak_kb "$python" -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$file")
  printf '%-8s %9d %12s %12s %12s %12s %8.1fx\n' "$input" "$entries" "$c_ms" "$p_ms" "$c_kb" "$p_kb" \
    "$(awk -v c="$c_ms" -v p="$p_ms" 'BEGIN { print p / c }')"
  eval "ms_$input=$c_ms kb_$input=$c_kb"
done

echo
awk -v a="$ms_10000" -v b="$ms_100000" -v ka="$kb_10000" -v kb="$kb_100000" 'BEGIN {
  printf "linearity: 10x the entries took %.1fx the time and %.1fx the memory (linear: about 10x)\n", b / a, kb / ka
}'
echo "real file: ${ms_real} ms (target: under 5 ms; starting /bin/true, measured the same way, takes $(best_ms /bin/true) ms here)"
