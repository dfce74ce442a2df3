#!/usr/bin/env bash
# https:// against a private CA, the built binary as a user runs it: a throwaway CA made with
# openssl, a server whose certificate it signed (tls_server.py). Without SSL_CERT_FILE,
# SSL_CERT_DIR or CURL_CA_BUNDLE the server is not trusted: exit 4 with the hint, and callback
# does not retry. With them (curl's order: CURL_CA_BUNDLE alone, else the other two), it is.
set -uo pipefail
crcr=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tmp=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
unset SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE CRCR_WEBHOOK_SECRET CRCR_WEBHOOK_SECRET_FILE \
  http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY

cd "$tmp" || exit 1
cat >openssl.cnf <<'CNF'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
subjectAltName = IP:127.0.0.1
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
CNF
key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
{
  openssl req -x509 -config openssl.cnf -extensions ca "${key[@]}" -keyout ca.key -out ca.pem \
    -days 2 -subj /CN=crcr-test-ca &&
    openssl req -x509 -config openssl.cnf -extensions ca "${key[@]}" -keyout other.key \
      -out other.pem -days 2 -subj /CN=crcr-other-ca &&
    openssl req -config openssl.cnf "${key[@]}" -keyout server.key -out server.csr \
      -subj /CN=127.0.0.1 &&
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
      -days 2 -extfile openssl.cnf -extensions server &&
    mkdir cadir && cp ca.pem cadir/ && openssl rehash cadir
} >openssl.log 2>&1 || { cat openssl.log; exit 1; }

/usr/bin/python3 "$here/tls_server.py" port server.pem server.key requests.log &
server_pid=$!
for _ in $(seq 100); do [ -f port ] && break; sleep 0.05; done
url="https://127.0.0.1:$(cat port)"
touch requests.log
requests() { wc -l <requests.log; }
# seen N DESCRIPTION: checks that the server has received N requests so far.
seen() {
  checks=$((checks + 1))
  if [ "$(requests)" -ne "$1" ]; then
    echo "FAIL: $2: the server received $(requests) requests, wanted $1"
    fails=$((fails + 1))
  fi
}

# simulate --send: the single-request client.
expect 4 "untrusted server" -- "$crcr" simulate push --send "$url/github/webhook"
contains "not trusted" "untrusted server: says so"
contains "SSL_CERT_FILE" "untrusted server: names the variable to set"
seen 0 "untrusted server: nothing sent"
expect 0 "SSL_CERT_FILE" -- env SSL_CERT_FILE=ca.pem "$crcr" simulate push --send "$url/github/webhook"
expect 0 "SSL_CERT_DIR" -- env SSL_CERT_DIR=cadir "$crcr" simulate push --send "$url/github/webhook"
expect 0 "CURL_CA_BUNDLE" -- env CURL_CA_BUNDLE=ca.pem "$crcr" simulate push --send "$url/github/webhook"
expect 4 "CURL_CA_BUNDLE wins over SSL_CERT_FILE" -- env CURL_CA_BUNDLE=other.pem SSL_CERT_FILE=ca.pem \
  "$crcr" simulate push --send "$url/github/webhook"
contains "CURL_CA_BUNDLE 'other.pem'" "a CA that does not vouch for the server: named"
expect 4 "a CA file that is not there" -- env SSL_CERT_FILE=missing.pem "$crcr" simulate push \
  --send "$url/github/webhook"
contains "SSL_CERT_FILE 'missing.pem'" "a CA file that is not there: named"
seen 3 "simulate --send"

# replay --to: the concurrent client; the run stops at the first untrusted answer.
"$crcr" simulate push --count 3 --output load.jsonl --seed 1 2>/dev/null
expect 4 "replay: untrusted server" -- "$crcr" replay load.jsonl --to "$url/github/webhook"
contains "not trusted" "replay: untrusted server: says so"
expect 0 "replay: SSL_CERT_FILE" -- env SSL_CERT_FILE=ca.pem "$crcr" replay load.jsonl \
  --to "$url/github/webhook"
seen 6 "replay"

# callback: not trusted is not "try again later": one attempt, exit 4.
token=$(/usr/bin/python3 -c '
import base64, json, time
part = lambda o: base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()
print(part({"alg": "RS256", "typ": "JWT"}) + "." + part({"aud": "pytorch-cross-repo-ci-relay",
      "exp": int(time.time()) + 600, "repository": "o/r"}) + ".c2ln")')
printf '{"client_payload":{"event_type":"push","delivery_id":"d-1","payload":{}}}' >event.json
expect 4 "callback: untrusted server" -- env CRCR_OIDC_TOKEN="$token" "$crcr" callback \
  --status in_progress --url "$url/github/callback" --event-file event.json --job-name build \
  --workflow-name ci --run-id 1 --run-attempt 1 --run-url https://github.com/o/r/actions/runs/1 \
  --max-time 60
contains "not trusted" "callback: untrusted server: says so"
checks=$((checks + 1))
if grep -qF "trying again" <<<"$out"; then
  echo "FAIL: callback retried an untrusted server"
  fails=$((fails + 1))
fi
finish
