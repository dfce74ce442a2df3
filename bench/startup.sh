#!/usr/bin/env bash
# Benchmark: what starting crcr costs, in CPU time per run (user + sys of the child, which other
# load changes little), beside the floor of the same run, /bin/true (fork and exec of the smallest
# program). Each command loads only the libraries it uses and declares only its own options:
# - libraries: crcr links libfmt, libyaml, pugixml and the C++ runtime; libcurl is loaded when a
#   request is sent, libcrypto when something is signed (include/crcr/openssl.hpp), and
#   cpp-httplib (libssl, zlib, brotli) and SQLite only by crcr-relay, the helper program crcr
#   executes for `relay serve` and `relay status` (include/crcr/helper.hpp). crcr-relay is crcr
#   with every one of those libraries linked, so the same command run by it is the baseline: what
#   every command paid when crcr linked them all (a conservative one: crcr-relay, too, declares
#   only the command it runs, and declaring all of them cost every command another 1.5 ms).
# - options: `crcr help validate-allowlist` declares every command, `crcr validate-allowlist
#   --help` only that one (commands/cli.cpp); both print the same text.
# The portable release binary (scripts/release.sh: static but for glibc) is reported beside.
# Goal: above the floor, `crcr validate-allowlist` (what PyTorch's CI runs on every pull request)
# costs at most half what it cost with every library loaded. Prints the figures, the goal, met or
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
row() { printf '  %-62s %7s ms CPU %7s ms wall\n' "$1" "$2" "$3"; }
above() { awk -v a="$1" -v f="$floor" 'BEGIN { printf "%.2f", a - f }'; }
check=(validate-allowlist examples/allowlist.yml)
read -r floor floor_wall < <(measure /bin/true)
row "/bin/true (the floor)" "$floor" "$floor_wall"
read -r version version_wall < <(measure build/crcr --version)
row "crcr --version" "$version" "$version_wall"
read -r dynamic dynamic_wall < <(measure build/crcr "${check[@]}")
row "crcr ${check[*]}" "$dynamic" "$dynamic_wall"
read -r all_libraries all_libraries_wall < <(measure build/crcr-relay "${check[@]}")
row "  the same, every library loaded (crcr-relay)" "$all_libraries" "$all_libraries_wall"
read -r alone alone_wall < <(measure build/crcr validate-allowlist --help)
row "crcr validate-allowlist --help (its options declared)" "$alone" "$alone_wall"
read -r whole whole_wall < <(measure build/crcr help validate-allowlist)
row "crcr help validate-allowlist (every command's declared)" "$whole" "$whole_wall"
read -r static static_wall < <(measure "$portable" --version)
row "portable crcr --version" "$static" "$static_wall"
read -r static_check static_check_wall < <(measure "$portable" "${check[@]}")
row "portable crcr ${check[*]}" "$static_check" "$static_check_wall"
echo "  above the floor: crcr ${check[0]} $(above "$dynamic") ms, with every library $(above "$all_libraries") ms, portable $(above "$static_check") ms;"
echo "  declaring every command's options costs $(awk -v a="$whole" -v b="$alone" 'BEGIN { printf "%.2f", a - b }') ms"
ratio=$(awk -v a="$(above "$dynamic")" -v b="$(above "$all_libraries")" 'BEGIN { printf "%.2f", a / b }')
goal "${check[0]} above /bin/true ${ratio}x of what it cost with every library loaded; goal <= 0.5x" \
  "$(at_least "$(awk -v b="$(above "$all_libraries")" 'BEGIN { print 0.5 * b }')" "$(above "$dynamic")")"
exit $goal_status
