#!/usr/bin/env bash
# validate-allowlist --format sarif against the official SARIF 2.1.0 schema.
set -euo pipefail
crcr=$1
data=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/tests/schema/install.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'L1:\n  - org/a\n  - Org/A\nl2: [x/y]\nL4:\n  - a/b: [p, q]\n' >"$tmp/bad dir name.yml"
"$crcr" validate-allowlist --format sarif "$root/examples/broken-allowlist.yml" >"$tmp/1.sarif" || true
"$crcr" validate-allowlist --format sarif --base "$data/allowlist/pytorch-2026-04.yml" "$data/allowlist/pytorch-2026-08.yml" >"$tmp/2.sarif"
"$crcr" validate-allowlist --format sarif "$tmp/bad dir name.yml" "$data/allowlist/pytorch-2026-08.yml" >"$tmp/3.sarif" || true
node "$root/tests/schema/check-sarif.mjs" "$tmp"/*.sarif
