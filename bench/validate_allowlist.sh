#!/usr/bin/env bash
# Benchmark: crcr validate-allowlist against PyYAML's C loader (`yaml.load(f, CSafeLoader)`, the
# fastest way Python reads the file) in the same run, on the real allowlist and on generated ones
# of 10,000 to 1,000,000 entries. Prints CPU time (user + sys, best of N runs: other load on the
# machine changes wall time far more), peak memory (max RSS) and the file size for both, then the
# goals of issue #22 with met/missed: 100,000 entries under 0.3 s and at least 10x faster than
# CSafeLoader, memory at most 10x the file size, time linear up to 1,000,000 entries; and the 5 ms
# target for the real file. Exits 1 when a goal is missed. The memory a file costs is the peak RSS
# above that of `crcr --version` (about 10 MB, nearly all of it the shared libraries' pages, which
# every process using them shares): what grows with the file.
#   bench/validate_allowlist.sh [runs]     (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
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

# best_ms CMD...: the least CPU time (user + sys of the child, from getrusage: microseconds, where
# /usr/bin/time rounds to 10 ms) over $runs runs, in milliseconds.
best_ms() {
  python3 - "$runs" "$@" <<'PY'
import resource, subprocess, sys
runs, argv = int(sys.argv[1]), sys.argv[2:]
best = None
for _ in range(runs):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    best = cpu if best is None else min(best, cpu)
print("%.1f" % (best * 1e3))
PY
}

peak_kb() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }

cp tests/data/allowlist/pytorch-2026-08.yml "$tmp/real.yml"
inputs=(real)
for n in 10000 100000 1000000; do
  generate "$n" "$tmp/$n.yml"
  inputs+=("$n")
done

python3 -c 'import yaml; yaml.CSafeLoader' 2>/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-yaml >/dev/null
loader='import sys, yaml; yaml.load(open(sys.argv[1]), Loader=yaml.CSafeLoader)'
start_kb=$(peak_kb "$crcr" --version)
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start; times are CPU"
printf '%-8s %9s %10s %12s %12s %12s %12s %9s\n' input entries file_kb crcr_ms python_ms crcr_kb python_kb speedup
for input in "${inputs[@]}"; do
  file=$tmp/$input.yml
  entries=$(grep -cE '^\s+(- )?[A-Za-z0-9-]+/' "$file")
  c_ms=$(best_ms "$crcr" validate-allowlist "$file")
  p_ms=$(best_ms "$python" -c "$loader" "$file")
  c_kb=$(peak_kb "$crcr" validate-allowlist "$file")
  p_kb=$(peak_kb "$python" -c "$loader" "$file")
  f_kb=$(($(stat -c %s "$file") / 1024))
  printf '%-8s %9d %10d %12s %12s %12s %12s %8.1fx\n' "$input" "$entries" "$f_kb" "$c_ms" "$p_ms" \
    "$c_kb" "$p_kb" "$(awk -v c="$c_ms" -v p="$p_ms" 'BEGIN { print p / (c > 0 ? c : 1) }')"
  eval "ms_$input=$c_ms kb_$input=$c_kb pms_$input=$p_ms fkb_$input=$f_kb"
done

missed=0
goal() { # MET DESCRIPTION
  if [ "$1" = 1 ]; then echo "met:    $2"; else echo "MISSED: $2"; missed=1; fi
}
check() { awk "BEGIN { exit !($1) }" && echo 1 || echo 0; }
echo
goal "$(check "$ms_100000 < 300")" "100,000 entries in ${ms_100000} ms (goal: under 300 ms)"
goal "$(check "$pms_100000 / $ms_100000 >= 10")" \
  "100,000 entries $(awk -v c="$ms_100000" -v p="$pms_100000" 'BEGIN { printf "%.1f", p / c }')x faster than CSafeLoader (goal: at least 10x)"
for n in 100000 1000000; do
  eval "kb=\$kb_$n fkb=\$fkb_$n"
  goal "$(check "$kb - $start_kb <= 10 * $fkb")" \
    "$n entries: $((kb - start_kb)) KB above start-up, $(awk -v k="$((kb - start_kb))" -v f="$fkb" 'BEGIN { printf "%.1f", k / f }')x the file (goal: at most 10x; the whole peak, $kb KB, is $(awk -v k="$kb" -v f="$fkb" 'BEGIN { printf "%.1f", k / f }')x)"
done
goal "$(check "$ms_1000000 / $ms_100000 <= 12")" \
  "10x the entries (100,000 to 1,000,000) took $(awk -v a="$ms_100000" -v b="$ms_1000000" 'BEGIN { printf "%.1f", b / a }')x the time (goal: linear, at most 12x)"

echo "before issue #22's work: 100,000 entries in 0.43 s of CPU and 61 MB (24x the file), 3x faster than CSafeLoader"
echo "start-up: $start_kb KB of peak memory for 'crcr --version'"
echo "machine: load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "real file: ${ms_real} ms of CPU (target: under 5 ms; starting /bin/true, measured the same way, takes $(best_ms /bin/true) ms here)"
exit "$missed"
