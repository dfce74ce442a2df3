#!/usr/bin/env bash
# crcr validate-allowlist, run as a user runs it.
set -u
crcr=$1
data=$2
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect 0 "real file April" -- "$crcr" validate-allowlist "$data/allowlist/pytorch-2026-04.yml"
expect 0 "real file August" -- "$crcr" validate-allowlist "$data/allowlist/pytorch-2026-08.yml"
contains "ok, 10 repositories (5 L1, 4 L2, 1 L3, 0 L4)" "summary"

expect 0 "base diff" -- "$crcr" validate-allowlist --base "$data/allowlist/pytorch-2026-04.yml" "$data/allowlist/pytorch-2026-08.yml"
contains "'Ascend/pytorch' promoted L1 -> L2 (written 'ascend/pytorch' in" "promotion with case change"
contains "[new-repo-above-l1]" "policy warning"
expect 1 "base diff, strict" -- "$crcr" validate-allowlist --strict --base "$data/allowlist/pytorch-2026-04.yml" "$data/allowlist/pytorch-2026-08.yml"

printf 'L1:\n  - org/a\nl2:\n  - org/b\n' >"$tmp/bad.yml"
expect 1 "bad file" -- "$crcr" validate-allowlist "$tmp/bad.yml"
contains "$tmp/bad.yml:3:1: error: unknown level 'l2'" "location"
contains "    3 | l2:" "source line"
expect 1 "github format" -- env GITHUB_ACTIONS=true "$crcr" validate-allowlist "$tmp/bad.yml"
contains "::error file=$tmp/bad.yml,line=3,col=1,endColumn=3,title=unknown-level::" "annotation"
expect 1 "sarif" -- "$crcr" validate-allowlist --format sarif "$tmp/bad.yml"
contains '"version": "2.1.0"' "sarif version"

expect 1 "missing file" -- "$crcr" validate-allowlist "$tmp/nope.yml"
contains "crcr: error: cannot read '$tmp/nope.yml': No such file or directory" "missing file message"
expect 1 "a directory" -- "$crcr" validate-allowlist "$tmp"
contains "crcr: error: cannot read '$tmp': Is a directory" "directory message"
printf 'L1: [org/a]\n' >"$tmp/private.yml"
chmod 600 "$tmp/private.yml"
chmod 755 "$tmp"
if [ "$(id -u)" -eq 0 ]; then # root reads anything: run as nobody to see the refusal
  install -m 755 "$crcr" "$tmp/crcr" # the build folder may be closed to nobody
  expect 1 "an unreadable file" -- setpriv --reuid=nobody --regid=nogroup --clear-groups "$tmp/crcr" validate-allowlist "$tmp/private.yml"
else
  chmod 000 "$tmp/private.yml"
  expect 1 "an unreadable file" -- "$crcr" validate-allowlist "$tmp/private.yml"
fi
contains "crcr: error: cannot read '$tmp/private.yml': Permission denied" "unreadable message"
expect 1 "a path through a file" -- "$crcr" validate-allowlist "$tmp/private.yml/x"
contains "Not a directory" "not a directory message"
expect 1 "binary garbage" -- "$crcr" validate-allowlist "$crcr"
contains "error: non-printable character U+007F" "binary"
expect 2 "usage error" -- "$crcr" validate-allowlist --format yaml
expect 2 "unknown flag" -- "$crcr" validate-allowlist --nope

# A 10 MB allowlist: handled, in bounded time.
awk 'BEGIN { print "L1:"; for (i = 0; i < 450000; i++) printf "  - org%d/repo-%d\n", i, i }' >"$tmp/big.yml"
expect 0 "10 MB allowlist" -- timeout 120 "$crcr" validate-allowlist "$tmp/big.yml"
contains "ok, 450000 repositories" "big summary"

# Deeply nested input is an error, not a stack overflow.
python3 -c 'print("L1: " + "[" * 100000 + "]" * 100000)' >"$tmp/deep.yml"
expect 1 "deep nesting" -- timeout 60 "$crcr" validate-allowlist "$tmp/deep.yml"

finish
