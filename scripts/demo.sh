#!/usr/bin/env bash
# crcr's main job on the bundled examples: installs what is missing, builds, then runs the
# relay's whole loop on this machine (the example allowlist validated, the relay emulator started
# on a free port, a pull request webhook sent to it, its dispatches shown, a vendor job's
# in_progress and completed callbacks posted with a locally signed token, the relay's state
# printed); then checks a broken allowlist, compares two real versions of PyTorch's allowlist,
# signs and verifies a delivery, shows the relay's plan for a labelled PR, the dispatch and
# callback requests (dry runs), a replay, and generates and checks a downstream workflow.
# Nothing leaves the machine.
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

export CRCR_WEBHOOK_SECRET_FILE=examples/webhook-secret.txt
tmp=$(mktemp -d)
relay_pid=
trap '[ -z "$relay_pid" ] || kill "$relay_pid" 2>/dev/null; rm -rf "$tmp"' EXIT

# 1. The whole loop: webhook in, dispatches out, callbacks back, state.
run validate-allowlist examples/allowlist.yml
printf '\n$ crcr relay serve --listen 127.0.0.1:0 --allowlist examples/allowlist.yml --oidc-jwks examples/relay/demo-jwks.json --state relay.db &\n'
"$crcr" relay serve --listen 127.0.0.1:0 --allowlist examples/allowlist.yml \
  --oidc-jwks examples/relay/demo-jwks.json --state "$tmp/relay.db" >"$tmp/relay.url" 2>"$tmp/relay.log" &
relay_pid=$!
for _ in $(seq 100); do [ -s "$tmp/relay.url" ] && break; sleep 0.1; done
url=$(head -n1 "$tmp/relay.url")
[ -n "$url" ] || { cat "$tmp/relay.log"; exit 1; }
echo "serving $url"
delivery=6f1c1b5e-0000-4000-8000-000000170001
pr=(pull_request opened --pr 170001 --label ciflow/crcr/crcr-test --seed 4 --now 2026-11-26T10:00:00Z --delivery-id "$delivery")
run simulate "${pr[@]}" --send "$url/github/webhook"
run relay status --state "$tmp/relay.db" --limit 1
# The L3 vendor's job: the event it receives, a token as Actions would mint it (signed here with
# the demo key whose key set the relay was given), and its two callbacks.
"$crcr" simulate "${pr[@]}" --as-dispatch --downstream pytorch/crcr-test >"$tmp/event.json"
"$crcr" relay token --private-key examples/relay/demo-oidc-key.pem --repository pytorch/crcr-test >"$tmp/token"
export GITHUB_WORKFLOW="PyTorch CI" GITHUB_JOB=npu-build GITHUB_RUN_ID=4242 GITHUB_RUN_ATTEMPT=1 \
  GITHUB_REPOSITORY=pytorch/crcr-test GITHUB_SERVER_URL=https://github.com
run callback --status in_progress --event-file "$tmp/event.json" --url "$url/github/callback" --token-file "$tmp/token"
run callback --status completed --conclusion success --test-results passed=120,failed=0,skipped=3 --event-file "$tmp/event.json" --url "$url/github/callback" --token-file "$tmp/token"
run relay status --state "$tmp/relay.db" --limit 1
kill -TERM "$relay_pid" && wait "$relay_pid"
relay_pid=
printf '\n(the relay log)\n'
cut -c1-160 "$tmp/relay.log"
unset GITHUB_WORKFLOW GITHUB_JOB GITHUB_RUN_ID GITHUB_RUN_ATTEMPT GITHUB_REPOSITORY GITHUB_SERVER_URL

# 2. More: a broken allowlist, and a change between two real versions of PyTorch's.
run validate-allowlist examples/broken-allowlist.yml
run validate-allowlist --base examples/pytorch-allowlist-2026-04.yml examples/pytorch-allowlist-2026-08.yml

# A signed pull_request delivery as GitHub would send it to the relay (headers, then body), and
# the check an operator makes when the relay answers 401.
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
