#!/usr/bin/env bash
# Benchmark: the relay emulator (`crcr relay serve --dispatch record`) under load, beside a
# baseline measured in the same run on the same machine:
#   - webhooks/s with allowlists of 10 and of 100 repositories (every delivery a dispatch to
#     each, recorded in the SQLite state), driven by `crcr replay --concurrency 16` with 5,000
#     signed pull_request deliveries; the baseline is the same replay against nginx answering 204
#     (what the sender and the loopback cost without a relay);
#   - callbacks/s (in_progress, each a verified RS256 token, a rate-limit window, a state-machine
#     step in the state), driven by wrk with 16 connections for 10 s;
#   - the relay's peak memory (VmHWM) in each run.
# Each figure is printed beside its baseline and goal, met or MISSED; exits 1 when a goal is
# missed, and when any callback was answered other than 200.
#   bench/relay.sh [COUNT]     (default 5000)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
count=${1:-5000}
need_tools nginx:nginx-light wrk:wrk openssl:openssl
scripts/build.sh build >/dev/null
crcr=$root/build/crcr
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
export CRCR_WEBHOOK_SECRET="bench secret"

"$crcr" simulate pull_request synchronize --count "$count" --output "$tmp/load.jsonl" --seed 1 2>/dev/null

# The baseline receiver: nginx answering 204 (bench/lib.sh).
start_nginx "$tmp"
pids+=("$nginx_pid")
port=$nginx_port

# replay_rate URL: deliveries/s of `crcr replay --concurrency 16` to URL.
replay_rate() {
  python3 - "$count" "$crcr" replay "$tmp/load.jsonl" --to "$1" --concurrency 16 <<'PY'
import subprocess, sys, time
n = int(sys.argv[1])
start = time.monotonic()
subprocess.run(sys.argv[2:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(f"{n / (time.monotonic() - start):.0f}")
PY
}

# start_relay REPOS: a relay over an allowlist of REPOS repositories (L1..L4 spread); sets $url.
start_relay() {
  python3 - "$1" >"$tmp/allowlist.yml" <<'PY'
import sys
n = int(sys.argv[1])
repos = [f"bench-org-{i}/pytorch-ci" for i in range(n - 1)]  # and the callbacks' repository
print("L1:"); [print(f"  - {r}") for r in repos[0::4]]
print("L2:"); [print(f"  - {r}") for r in repos[1::4] + ["bench-org/callbacks"]]
print("L3:\n  npu:"); [print(f"    {r}: [oncall]") for r in repos[2::4]]
print("L4:"); [print(f"  - {r}: oncall") for r in repos[3::4]]
PY
  rm -f "$tmp/relay.db"*
  "$crcr" relay serve --listen 127.0.0.1:0 --allowlist "$tmp/allowlist.yml" --rate-limit 1000000 \
    --oidc-jwks "$root/examples/relay/demo-jwks.json" --state "$tmp/relay.db" >"$tmp/url" 2>/dev/null &
  relay_pid=$!
  pids+=("$relay_pid")
  for _ in $(seq 100); do [ -s "$tmp/url" ] && break; sleep 0.05; done
  url=$(head -n1 "$tmp/url")
}
stop_relay() { # prints the relay's peak memory in MB
  awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$relay_pid/status"
  kill -TERM "$relay_pid"
  wait "$relay_pid" 2>/dev/null || true
}

baseline=$(replay_rate "http://127.0.0.1:$port/github/webhook")
start_relay 10
hooks10=$(replay_rate "$url/github/webhook")
mem10=$(stop_relay)
start_relay 100
hooks100=$(replay_rate "$url/github/webhook")
dispatches=$("$crcr" relay status --state "$tmp/relay.db" --json --limit 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["dispatches"])')
mem100=$(stop_relay)

# Callbacks: one dispatched delivery, then in_progress callbacks for distinct jobs from wrk.
start_relay 10
delivery=$(head -n1 "$tmp/load.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["delivery_id"])')
head -n1 "$tmp/load.jsonl" >"$tmp/one.jsonl"
"$crcr" replay "$tmp/one.jsonl" --to "$url/github/webhook" >/dev/null 2>&1
token=$("$crcr" relay token --private-key "$root/examples/relay/demo-oidc-key.pem" \
  --repository bench-org/callbacks --lifetime 3600)
# Each wrk thread has its own Lua state: its id (from setup) keeps the job names of the two
# threads apart, or half the callbacks would repeat a job's in_progress and be refused (400
# "invalid state transition"). done() prints the requests and errors wrk counted.
cat >"$tmp/callback.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local n = 0
request = function()
  n = n + 1
  local body = '{"event_type":"pull_request","delivery_id":"$delivery","payload":{},'
    .. '"workflow":{"schema_version":"1","status":"in_progress","conclusion":null,"name":"CI",'
    .. '"job_name":"job-' .. id .. '-' .. n .. '","run_id":"1","run_attempt":"1",'
    .. '"check_run_id":"1-1"}}'
  return wrk.format(nil, "/github/callback", nil, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("wrk: %d %d %d\n", summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout))
end
LUA
wrk -t2 -c16 -d10s -s "$tmp/callback.lua" "$url" >"$tmp/wrk.out"
callbacks=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$tmp/wrk.out")
read -r _ wrk_requests wrk_non2xx wrk_socket_errors < <(grep '^wrk: ' "$tmp/wrk.out")
# Every callback the relay recorded, by the status it answered.
read -r accepted refused < <("$crcr" relay status --state "$tmp/relay.db" --json --limit 1 |
  python3 -c 'import json,sys
d = json.load(sys.stdin)
answers = [c["answer_status"] for c in d["deliveries"][0]["callbacks"]] + [c["answer_status"] for c in d["other_callbacks"]]
print(sum(1 for a in answers if a == 200), sum(1 for a in answers if a != 200))')
memcb=$(stop_relay)

cat <<REPORT
relay emulator, $count signed pull_request deliveries ($(nproc) cores, $(date -u +%F))
  replay -c16 to nginx (baseline, no relay)        $baseline deliveries/s
  relay serve, 10 repositories                     $hooks10 webhooks/s ($((hooks10 * 10)) dispatches/s), peak $mem10 MB
  relay serve, 100 repositories                    $hooks100 webhooks/s ($((hooks100 * 100)) dispatches/s), peak $mem100 MB
  callbacks (in_progress, wrk -c16, 10 s)          $callbacks callbacks/s ($wrk_requests answered, $accepted recorded 200, $refused other), peak $memcb MB
  dispatches recorded in the 100-repository run    $dispatches
REPORT
# Goals: every answer 200 (a refused callback is not a callback handled); a webhook with 100
# repositories at most 1/100 as fast as the baseline replay per dispatch, i.e. dispatches/s at
# least the baseline's deliveries/s (the relay's work per dispatch no more than the sender's per
# delivery); callbacks at least 1,000/s (a run of a thousand jobs reporting at once).
goal "every callback answered 200: $wrk_non2xx non-2xx and $wrk_socket_errors socket errors (wrk), $refused recorded not 200; goal 0" \
  "$([ "$wrk_non2xx" = 0 ] && [ "$wrk_socket_errors" = 0 ] && [ "$refused" = 0 ] && echo 1 || echo 0)"
goal "dispatches/s, 100 repositories: $((hooks100 * 100)) beside the baseline's $baseline deliveries/s; goal >= the baseline" \
  "$(at_least $((hooks100 * 100)) "$baseline")"
goal "callbacks/s: $callbacks; goal >= 1000" "$(at_least "$callbacks" 1000)"
exit $goal_status
