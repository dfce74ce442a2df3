#!/usr/bin/env bash
# Every event and action crcr simulates, with and without the optional shapes, checked against
# GitHub's own descriptions (tests/schema/check.mjs) and octokit's signature verification.
set -euo pipefail
crcr=$1
schema_dir=$(cd "$(dirname "$0")/../schema" && pwd)
"$schema_dir/install.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SECRET="crcr schema test secret"
export CRCR_WEBHOOK_SECRET="$SECRET"
now=2026-11-26T10:00:00Z
jobs=()
n=0
add() { # add NAME EVENT ACTION [simulate flags...]
  local name=$1 event=$2 action=$3
  shift 3
  n=$((n + 1))
  local file="$tmp/$n.jsonl"
  if [ "$action" = - ]; then
    "$crcr" simulate "$event" --seed "$n" --now "$now" --output "$file" "$@" 2>/dev/null
    jobs+=("{\"name\":\"$name\",\"event\":\"$event\",\"action\":null,\"file\":\"$file\"}")
  else
    "$crcr" simulate "$event" "$action" --seed "$n" --now "$now" --output "$file" "$@" 2>/dev/null
    jobs+=("{\"name\":\"$name\",\"event\":\"$event\",\"action\":\"$action\",\"file\":\"$file\"}")
  fi
}
actions="assigned auto_merge_disabled auto_merge_enabled closed converted_to_draft demilestoned dequeued edited enqueued labeled locked milestoned opened ready_for_review reopened review_request_removed review_requested synchronize unassigned unlabeled unlocked"
for action in $actions; do
  add "pull_request $action" pull_request "$action"
  add "pull_request $action, fork and labels" pull_request "$action" --head-repo contributor/pytorch --label "module: cuda" --label ciflow/crcr/crcr-test --pr 4242 --title 'A "quoted" title: with colons' --sender some-contributor
done
add "closed merged" pull_request closed --merged
add "synchronize with SHAs" pull_request synchronize --head-sha "$(printf 'a%.0s' {1..40})" --base-sha "$(printf 'b%.0s' {1..40})" --head-ref feature --base-ref release/2.11
add "opened, --set" pull_request opened --set pull_request.title=edited --set pull_request.draft=true --set pull_request.additions=5 --set 'pull_request.head.repo.topics=["a","b"]'
add "opened in another repo" pull_request opened --repo example-org/accelerator-ci
add "push" push -
add "push to a new branch" push - --ref refs/heads/feature --before 0000000000000000000000000000000000000000
add "force push" push - --forced
add "branch deletion" push - --ref refs/heads/old --deleted
add "tag push" push - --ref refs/tags/v2.11.0 --before 0000000000000000000000000000000000000000
add "push from a bot" push - --sender "pytorch-fdn-cross-repo-ci-relay[bot]"
# The other events the relay reads: re-runs of its check runs, and the App's ping.
add "check_run rerequested" check_run rerequested
add "check_run rerequested, named" check_run rerequested --check-name "crcr/my-org/pytorch-ci/PyTorch CI/test (cuda, 1)" --run-id 19876543210 --pr 4242 --head-sha "$(printf 'c%.0s' {1..40})" --check-suite-id 31234567890 --sender some-contributor
add "check_suite rerequested" check_suite rerequested
add "check_suite rerequested, on a branch" check_suite rerequested --head-ref feature --pr 7 --head-sha "$(printf 'd%.0s' {1..40})"
add "ping" ping -
# --set null wherever GitHub's schemas allow it (the table in src/payload.cpp).
add "opened, --set null" pull_request opened --set pull_request.body=null --set repository.homepage=null --set repository.description=null --set repository.language=null --set repository.license=null --set pull_request.head.repo.homepage=null
add "labeled, --set null" pull_request labeled --label y --set pull_request.labels[0].description=null --set label.description=null
add "push, --set null" push - --set head_commit=null --set pusher.email=null --set repository.homepage=null
add "check_run, --set null" check_run rerequested --set check_run.output.title=null --set check_run.check_suite.head_branch=null --set repository.homepage=null
n=$((n + 1))
"$crcr" simulate pull_request opened --seed "$n" --now "$now" --as-dispatch >"$tmp/$n.json" 2>/dev/null
jobs+=("{\"name\":\"as-dispatch\",\"dispatch\":true,\"file\":\"$tmp/$n.json\"}")
(IFS=,; echo "[${jobs[*]}]") >"$tmp/manifest.json"
node "$schema_dir/check.mjs" "$tmp/manifest.json"
