#!/usr/bin/env bash
# crcr's main job on the bundled examples: installs what is missing, builds, then checks a good
# and a broken allowlist, compares two real versions of PyTorch's allowlist, signs and verifies
# a delivery, shows what the relay would do with a PR, the dispatch a vendor's repository would
# receive and the callback it would send (dry runs: nothing leaves the machine), replays captured
# deliveries, and generates and checks a downstream workflow.
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

# What the relay does with a labelled PR, repository by repository.
run plan pull_request opened --label ciflow/crcr/crcr-test --allowlist examples/allowlist.yml

# The dispatch a vendor's repository receives, and the callback its job sends back (dry runs).
printf '\n$ crcr dispatch-test --repo example-org/accelerator-ci --delivery-id demo-1 --dry-run | cut -c1-300\n'
"$crcr" dispatch-test --repo example-org/accelerator-ci --delivery-id demo-1 --dry-run 2>&1 | cut -c1-300
"$crcr" simulate pull_request opened --seed 2 --as-dispatch --downstream example-org/accelerator-ci >"$tmp/event.json"
printf '\n$ crcr callback --status completed --conclusion success --event-file event.json ... --dry-run | cut -c1-300\n'
GITHUB_WORKFLOW="PyTorch CI" GITHUB_JOB=build GITHUB_RUN_ID=1234 GITHUB_RUN_ATTEMPT=1 \
  GITHUB_REPOSITORY=example-org/accelerator-ci CRCR_OIDC_TOKEN=demo \
  "$crcr" callback --status completed --conclusion success --event-file "$tmp/event.json" --dry-run 2>&1 | cut -c1-300

# Captured deliveries, listed as a replay would send them.
"$crcr" simulate pull_request synchronize --count 5 --seed 3 --output "$tmp/captured.jsonl" 2>/dev/null
run replay "$tmp/captured.jsonl" --to http://127.0.0.1:8080/github/webhook --dry-run

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
