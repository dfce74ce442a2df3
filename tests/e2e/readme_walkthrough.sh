#!/usr/bin/env bash
# The README's "The whole relay on one machine", run as written: its shell blocks are taken from
# README.md and run in a temporary folder beside a copy of examples/, with `crcr` a function that
# starts `relay serve` in the background on a free port and points the README's
# http://127.0.0.1:8080 at it. Every command must succeed, and the relay must end with the
# dispatches and both callbacks the README shows.
set -euo pipefail
bin=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
# The walkthrough runs in a subshell, so the server's pid comes back in a file; it is stopped
# whatever happens (a server left running would outlive the test and hold its port).
trap '[ ! -s "$tmp/relay.pid" ] || kill -9 "$(cat "$tmp/relay.pid")" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$tmp/relay.log" ] && tail -5 "$tmp/relay.log" >&2; exit 1; }

# The section's ```sh blocks, in order.
awk '/^## The whole relay on one machine/ { on = 1; next }
     on && /^## / { exit }
     on && /^```sh$/ { block = 1; next }
     on && /^```$/ { block = 0; next }
     block' "$root/README.md" >"$tmp/walkthrough.sh"
grep -q 'crcr relay serve' "$tmp/walkthrough.sh" || fail "no walkthrough with 'crcr relay serve' in README.md"
grep -q 'crcr callback' "$tmp/walkthrough.sh" || fail "no 'crcr callback' in README.md's walkthrough"

url=
crcr() {
  if [ "$1 $2" = "relay serve" ]; then
    "$bin" "$@" --listen 127.0.0.1:0 >"$tmp/url" 2>"$tmp/relay.log" &
    echo $! >"$tmp/relay.pid"
    for _ in $(seq 100); do [ -s "$tmp/url" ] && break; sleep 0.1; done
    url=$(head -n1 "$tmp/url")
    [ -n "$url" ] || fail "relay serve did not start"
    return
  fi
  local args=() arg
  for arg in "$@"; do args+=("${arg//http:\/\/127.0.0.1:8080/$url}"); done
  "$bin" "${args[@]}"
}
ln -s "$root/examples" "$tmp/examples"
cd "$tmp"
set +e
(set -e; source ./walkthrough.sh) >out 2>err
rc=$?
set -e
[ "$rc" -eq 0 ] || { cat out err >&2; fail "the README's walkthrough exited $rc"; }
grep -q '"dispatched":\[.*{"repo":"pytorch/crcr-test"}' out || fail "the webhook dispatched nothing to pytorch/crcr-test: $(cat out)"
grep -q "callback accepted: in_progress for job 'npu-build' (run 4242, attempt 1)" out ||
  fail "the in_progress callback was not accepted: $(cat out err)"
grep -q '^relay.db: 1 deliveries, 5 dispatches, 2 callbacks, 2 check runs$' out ||
  fail "relay status does not show the README's state: $(cat out)"
echo "the README's walkthrough ran: $(grep -c '' walkthrough.sh) lines"
