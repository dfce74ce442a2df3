#!/usr/bin/env bash
# crcr's main job on the bundled examples: installs what is missing, builds, then checks a good
# and a broken allowlist and compares two real versions of PyTorch's allowlist.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh || exit 1
scripts/build.sh build || exit 1
crcr=build/crcr

run() {
  printf '\n$ crcr %s\n' "$*"
  "$crcr" "$@"
  printf '(exit status %d)\n' "$?"
}

run validate-allowlist examples/allowlist.yml
run validate-allowlist examples/broken-allowlist.yml
run validate-allowlist --base examples/pytorch-allowlist-2026-04.yml examples/pytorch-allowlist-2026-08.yml

# A signed pull_request delivery as GitHub would send it to the relay (headers, then body), and
# the check an operator makes when the relay answers 401.
export CRCR_WEBHOOK_SECRET_FILE=examples/webhook-secret.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '\n$ crcr simulate pull_request synchronize --pr 170001 --seed 1 --now 2026-11-26T10:00:00Z --include | head -c 900\n'
"$crcr" simulate pull_request synchronize --pr 170001 --seed 1 --now 2026-11-26T10:00:00Z --include | head -c 900
printf '...\n'
"$crcr" simulate pull_request synchronize --pr 170001 --seed 1 --now 2026-11-26T10:00:00Z >"$tmp/body.json"
signature=$("$crcr" simulate pull_request synchronize --pr 170001 --seed 1 --now 2026-11-26T10:00:00Z --include |
  sed -n 's/^X-Hub-Signature-256: \(.*\)\r$/\1/p')
run verify-signature --signature "$signature" "$tmp/body.json"
echo >>"$tmp/body.json" # an editor adds a final newline...
run verify-signature --signature "$signature" "$tmp/body.json"
exit 0
