#!/usr/bin/env bash
# crcr's main job on the bundled examples: installs what is missing, builds, then checks a good
# and a broken allowlist, compares two real versions of PyTorch's allowlist, signs and verifies
# a delivery, and generates and checks a downstream workflow.
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

# A vendor's L2 workflow, written and checked; then the docs page's example with the docs
# table's 'synchronized' as an event type, as vendors have copied it.
printf "\n\$ crcr gen-workflow --level L2 --runs-on self-hosted --runs-on npu --job-name npu-build --build 'pip install -e .' --output %s\n" "$tmp/pytorch_ci.yml"
"$crcr" gen-workflow --level L2 --runs-on self-hosted --runs-on npu --job-name npu-build --build 'pip install -e .' --output "$tmp/pytorch_ci.yml"
printf '(exit status %d)\n' "$?"
sed -n '1,12p' "$tmp/pytorch_ci.yml"
printf '...\n'
run gen-workflow --check "$tmp/pytorch_ci.yml"
sed 's/types: \[pull_request, push\]/types: [pull_request, synchronized]/' tests/data/workflows/docs-example.yml >"$tmp/docs-example.yml"
run gen-workflow --check "$tmp/docs-example.yml"
exit 0
