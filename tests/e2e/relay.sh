#!/usr/bin/env bash
# crcr relay serve end to end, the built binary driven by crcr's own commands: the README's loop
# (webhook in, dispatches recorded, callbacks with a locally signed token, relay status), replay
# of 200 deliveries at once, the allowlist re-read when it changes (a broken version keeps the
# last good one), SIGTERM answering what is in flight then exiting 0, a restart on the same state
# keeping its history, JSON logs without secrets, and the command-line refusals.
set -euo pipefail
crcr=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
relay_pid=
replay=
cleanup() {
  for pid in $relay_pid $replay; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$tmp/log" ] && tail -20 "$tmp/log" >&2; exit 1; }
export CRCR_WEBHOOK_SECRET="e2e relay secret"
key=$root/examples/relay/demo-oidc-key.pem
cp "$root/examples/allowlist.yml" "$tmp/allowlist.yml"

start() { # start [extra args]: sets $url and $relay_pid
  : >"$tmp/url"
  "$crcr" relay serve --listen 127.0.0.1:0 --allowlist "$tmp/allowlist.yml" \
    --oidc-jwks "${jwks:-$root/examples/relay/demo-jwks.json}" --state "$tmp/relay.db" "$@" \
    >"$tmp/url" 2>>"$tmp/log" &
  relay_pid=$!
  for _ in $(seq 100); do [ -s "$tmp/url" ] && break; sleep 0.05; done
  url=$(head -n1 "$tmp/url")
  [ -n "$url" ] || fail "relay serve did not start"
}
stop() {
  kill -TERM "$relay_pid"
  local rc=0
  wait "$relay_pid" || rc=$?
  relay_pid=
  [ "$rc" -eq 0 ] || fail "relay serve exited $rc on SIGTERM"
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# --- the demo JWKS is the demo key's --------------------------------------------------------
"$crcr" relay token --private-key "$key" --jwks | diff - "$root/examples/relay/demo-jwks.json" ||
  fail "examples/relay/demo-jwks.json is not the key set of demo-oidc-key.pem"

# --- the loop ------------------------------------------------------------------------------
start --log-format json
delivery=11111111-2222-4333-8444-555555555555
pr=(pull_request opened --pr 42 --label ciflow/crcr/crcr-test --seed 5 --now 2026-11-26T10:00:00Z --delivery-id "$delivery")
"$crcr" simulate "${pr[@]}" --send "$url/github/webhook" >"$tmp/answer" 2>/dev/null || fail "webhook refused"
[ "$(tail -n1 "$tmp/answer" | json 'len(d["dispatched"])')" = 5 ] || fail "not dispatched to 5: $(cat "$tmp/answer")"
"$crcr" simulate "${pr[@]}" --as-dispatch --downstream pytorch/crcr-test >"$tmp/event.json"
"$crcr" relay token --private-key "$key" --repository pytorch/crcr-test >"$tmp/token"
cb=(--event-file "$tmp/event.json" --url "$url/github/callback" --workflow-name CI --run-id 77
  --run-attempt 1 --run-url https://github.com/pytorch/crcr-test/actions/runs/77)
"$crcr" callback --status in_progress "${cb[@]}" --token-file "$tmp/token" --job-name build >/dev/null || fail "in_progress refused"
"$crcr" callback --status completed --conclusion failure "${cb[@]}" --token-file "$tmp/token" --job-name build >/dev/null ||
  fail "completed refused"
rc=0
"$crcr" callback --status completed --conclusion failure "${cb[@]}" --token-file "$tmp/token" --job-name build 2>"$tmp/err" >/dev/null || rc=$?
[ "$rc" -eq 1 ] && grep -q "invalid state transition" "$tmp/err" || fail "a repeated completed was not refused ($rc)"
# An L1 repository is ignored; a token signed by another key is refused.
"$crcr" relay token --private-key "$key" --repository google-pytorch/torch_tpu >"$tmp/l1token"
"$crcr" callback --status in_progress "${cb[@]}" --token-file "$tmp/l1token" --job-name build --json >"$tmp/l1" ||
  fail "an L1 callback was refused"
grep -q '"ignored"' "$tmp/l1" || fail "an L1 callback was not ignored: $(cat "$tmp/l1")"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/other.pem" 2>/dev/null
"$crcr" relay token --private-key "$tmp/other.pem" --repository pytorch/crcr-test >"$tmp/forged"
rc=0
"$crcr" callback --status in_progress "${cb[@]}" --job-name other --token-file "$tmp/forged" 2>"$tmp/err" >/dev/null || rc=$?
[ "$rc" -eq 4 ] && grep -q "Invalid authorization token" "$tmp/err" || fail "a forged token was not refused ($rc): $(cat "$tmp/err")"

"$crcr" relay status --state "$tmp/relay.db" --json >"$tmp/status.json"
python3 - "$tmp/status.json" <<'PY' || fail "relay status --json"
import json, sys
d = json.load(open(sys.argv[1]))
[delivery] = [x for x in d["deliveries"] if x["delivery_id"] == "11111111-2222-4333-8444-555555555555"]
assert {x["repo"] for x in delivery["dispatches"]} == {"riseproject-dev/pytorch-ci", "google-pytorch/torch_tpu",
    "Ascend/pytorch", "pytorch/crcr-test", "example-org/accelerator-ci"}, delivery["dispatches"]
answers = [(c["status"], c["answer_status"]) for c in delivery["callbacks"]]
assert answers[:3] == [("in_progress", 200), ("completed", 200), ("completed", 400)], answers
assert delivery["callbacks"][0]["queue_time"] is not None and delivery["callbacks"][1]["execution_time"] is not None
runs = [(r["name"], r["status"], r["conclusion"]) for r in delivery["check_runs"]]
assert ("crcr/pytorch/crcr-test/CI/build", "completed", "failure") in runs, runs
PY

# --- 200 deliveries replayed with 16 connections: all answered and all in the state ----------
"$crcr" simulate push --count 200 --seed 9 --output "$tmp/load.jsonl" 2>/dev/null
"$crcr" replay "$tmp/load.jsonl" --to "$url/github/webhook" --concurrency 16 2>"$tmp/replay.err" ||
  fail "replay: $(tail -3 "$tmp/replay.err")"
[ "$("$crcr" relay status --state "$tmp/relay.db" --json | json 'd["totals"]["deliveries"]')" = 201 ] ||
  fail "deliveries lost"

# --- the allowlist is re-read; a broken version keeps the last good one -------------------
printf 'L1:\n  - org/only\n' >"$tmp/allowlist.yml"
for _ in $(seq 50); do grep -q '"allowlist reloaded"' "$tmp/log" && break; sleep 0.1; done
"$crcr" simulate push --seed 10 --send "$url/github/webhook" 2>/dev/null | tail -n1 >"$tmp/answer"
[ "$(json 'd["dispatched"]' <"$tmp/answer")" = "[{'repo': 'org/only'}]" ] || fail "not reloaded: $(cat "$tmp/answer")"
printf 'L1:\n  - org/only\n  - org/only\n' >"$tmp/allowlist.yml"
for _ in $(seq 50); do grep -q 'keeping the last good one' "$tmp/log" && break; sleep 0.1; done
grep -q 'allowlist.yml:3:5: ' "$tmp/log" || fail "the broken allowlist's error has no location"
"$crcr" simulate push --seed 11 --send "$url/github/webhook" 2>/dev/null | tail -n1 >"$tmp/answer"
[ "$(json 'd["dispatched"]' <"$tmp/answer")" = "[{'repo': 'org/only'}]" ] || fail "the broken allowlist was used"

# --- SIGTERM with requests in flight: they are answered, then exit 0 ----------------------
"$crcr" simulate push --count 300 --seed 12 --output "$tmp/more.jsonl" 2>/dev/null
"$crcr" replay "$tmp/more.jsonl" --to "$url/github/webhook" --concurrency 8 --report "$tmp/report" \
  >/dev/null 2>&1 &
replay=$!
for _ in $(seq 100); do [ -s "$tmp/report" ] && break; sleep 0.02; done
stop
kill -9 "$replay" 2>/dev/null || true # it would retry the refused connections for minutes
wait "$replay" 2>/dev/null || true
replay=
answered=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["status"] == "delivered"))' "$tmp/report")
stored=$("$crcr" relay status --state "$tmp/relay.db" --json | json 'd["totals"]["deliveries"]')
[ "$stored" -ge $((203 + answered)) ] || fail "answered $answered but the state has $stored deliveries"
grep -q '"message":"stopped"' "$tmp/log" || fail "no 'stopped' in the log"

# --- a restart on the same state keeps the history; the key set read from a URL ----------
cp "$root/examples/allowlist.yml" "$tmp/allowlist.yml"
mkdir "$tmp/www" && cp "$root/examples/relay/demo-jwks.json" "$tmp/www/jwks"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$tmp/www" >"$tmp/http.log" 2>&1 &
http_pid=$!
for _ in $(seq 100); do grep -q "port" "$tmp/http.log" && break; sleep 0.05; done
http_port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$tmp/http.log" | head -n1)
jwks="http://127.0.0.1:$http_port/jwks" start
kill "$http_pid"
cb[3]=$url/github/callback
"$crcr" callback --status in_progress "${cb[@]}" --token-file "$tmp/token" --job-name test >/dev/null ||
  fail "callback after a restart"
stop
"$crcr" relay status --state "$tmp/relay.db" --limit 300 >"$tmp/status.txt"
grep -q "11111111-2222-4333-8444-555555555555" "$tmp/status.txt" || fail "history lost"
grep -q "run 77/1 test" "$tmp/status.txt" || fail "the callback after the restart is missing"

# --- nothing secret in the logs --------------------------------------------------------------
! grep -q "$CRCR_WEBHOOK_SECRET" "$tmp/log" || fail "the webhook secret is in the log"
! grep -qF "$(cut -c1-40 "$tmp/token")" "$tmp/log" || fail "a token is in the log"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]' "$tmp/log" ||
  fail "--log-format json wrote a line that is not JSON"

# --- refusals ------------------------------------------------------------------------------
rc=0; "$crcr" relay serve --listen 0.0.0.0:0 --allowlist "$tmp/allowlist.yml" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q "not a loopback address" "$tmp/err" || fail "a public address was accepted ($rc)"
rc=0; CRCR_WEBHOOK_SECRET= "$crcr" relay serve --listen 127.0.0.1:0 --allowlist "$tmp/allowlist.yml" 2>"$tmp/err" || rc=$?
[ "$rc" -ne 0 ] || fail "no secret was accepted"
rc=0; "$crcr" relay serve --listen 127.0.0.1:0 --allowlist "$root/examples/broken-allowlist.yml" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "broken-allowlist.yml:5:5" "$tmp/err" || fail "a broken allowlist was served ($rc)"
rc=0; "$crcr" relay status --state "$tmp/none.db" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "no relay state" "$tmp/err" || fail "status of a missing state ($rc)"
echo "relay e2e: ok"
