#!/usr/bin/env bash
# Benchmark: what starting crcr costs, in CPU time per run (user + sys of the child, which other
# load changes little), for `crcr --version` and an offline command (`validate-allowlist` of the
# example), the dynamically linked build (build/crcr: 16 shared libraries to map and relocate)
# beside the portable release binary (scripts/release.sh: static but for glibc, libcurl loaded
# only when a request is sent) and the floor of the same run, /bin/true (fork and exec of the
# smallest program). Goal: above that floor, the portable binary starts in at most half the CPU of
# the dynamic one. Prints the figures, the goal, met or
# MISSED; exits 1 when it is missed.
#   bench/startup.sh [RUNS]     (default 300, best of 3 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
runs=${1:-300}
scripts/build.sh build >/dev/null
portable=build/release/build-portable/crcr
[ -x "$portable" ] || scripts/release.sh build/release >/dev/null
measure() { # measure COMMAND...: "CPU WALL" in ms per run, best of 3 rounds
  python3 - "$runs" "$@" <<'PY'
import resource, subprocess, sys, time
runs, argv = int(sys.argv[1]), sys.argv[2:]
best = None
for _ in range(3):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    for _ in range(runs):
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = (time.perf_counter() - start) / runs
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / runs
    best = min(best or (cpu, wall), (cpu, wall))
print("%.2f %.2f" % (best[0] * 1e3, best[1] * 1e3))
PY
}
echo "start-up, CPU and wall time per run, best of 3 rounds of $runs ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $(date -u +%F))"
row() { printf '  %-58s %7s ms CPU %7s ms wall\n' "$1" "$2" "$3"; }
read -r floor floor_wall < <(measure /bin/true)
row "/bin/true (the floor)" "$floor" "$floor_wall"
read -r dynamic dynamic_wall < <(measure build/crcr --version)
row "build/crcr --version (dynamic)" "$dynamic" "$dynamic_wall"
read -r static static_wall < <(measure "$portable" --version)
row "portable crcr --version" "$static" "$static_wall"
read -r dynamic_check dynamic_check_wall < <(measure build/crcr validate-allowlist examples/allowlist.yml)
row "build/crcr validate-allowlist examples/allowlist.yml" "$dynamic_check" "$dynamic_check_wall"
read -r static_check static_check_wall < <(measure "$portable" validate-allowlist examples/allowlist.yml)
row "portable crcr validate-allowlist examples/allowlist.yml" "$static_check" "$static_check_wall"
own_dynamic=$(awk -v a="$dynamic" -v f="$floor" 'BEGIN { printf "%.2f", a - f }')
own_static=$(awk -v a="$static" -v f="$floor" 'BEGIN { printf "%.2f", a - f }')
ratio=$(awk -v a="$own_static" -v b="$own_dynamic" 'BEGIN { printf "%.2f", a / b }')
goal "portable/dynamic ${ratio}x above /bin/true ($own_static vs $own_dynamic ms of CPU for --version); goal <= 0.5x" \
  "$(at_least "$(awk -v b="$own_dynamic" 'BEGIN { print 0.5 * b }')" "$own_static")"
exit $goal_status
