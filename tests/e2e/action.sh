#!/usr/bin/env bash
# crcr's GitHub Action (action.yml) and the script it runs (scripts/install-release.sh) against a
# loopback server that serves releases as GitHub's API does (tests/e2e/fake_releases.py): release
# JSON, asset downloads through a redirect to another host (which must not see the token), the
# tarball's SHA-256 checked against SHA256SUMS. The release tarball is a stand-in with the real
# layout, so this test needs no release build.
#   action.sh SOURCE_DIR
set -u
root=$1
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT

# Two releases, v0.1.0 and v0.2.0 (the latest), and v0.3.0 whose SHA256SUMS does not match.
release() { # release VERSION [BAD_SUM]
  local name=crcr-$1-linux-x86_64
  mkdir -p "$tmp/stage/$name/bin" "$tmp/assets/v$1"
  printf '#!/bin/sh\necho "crcr %s"\n' "$1" >"$tmp/stage/$name/bin/crcr"
  chmod +x "$tmp/stage/$name/bin/crcr"
  tar -C "$tmp/stage" -czf "$tmp/assets/v$1/$name.tar.gz" "$name"
  (cd "$tmp/assets/v$1" && sha256sum "$name.tar.gz" >SHA256SUMS)
  [ -z "${2:-}" ] || printf '%064d  %s\n' 0 "$name.tar.gz" >"$tmp/assets/v$1/SHA256SUMS"
}
release 0.1.0
release 0.3.0 bad
release 0.2.0
mkdir -p "$tmp/assets/v0.4.0"
cp "$tmp/assets/v0.2.0/SHA256SUMS" "$tmp/assets/v0.4.0/" # a release without its tarball

python3 "$root/tests/e2e/fake_releases.py" "$tmp/ports" "$tmp/assets" example-org/crcr \
  v0.1.0 v0.3.0 v0.4.0 v0.2.0 2>"$tmp/server.log" &
server=$!
for _ in $(seq 100); do [ -f "$tmp/ports" ] && break; sleep 0.05; done
api_port=$(sed -n 1p "$tmp/ports")

# install VERSION: runs the action's step as the runner would, in a fresh runner folder.
install() {
  rm -rf "$tmp/runner"
  mkdir -p "$tmp/runner/temp"
  : >"$tmp/runner/path"
  : >"$tmp/runner/output"
  run=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["runs"]["steps"][0]["run"])' "$root/action.yml")
  env -i PATH="$PATH" HOME="$tmp/runner" RUNNER_TEMP="$tmp/runner/temp" GITHUB_ACTION_PATH="$root" \
    GITHUB_PATH="$tmp/runner/path" GITHUB_OUTPUT="$tmp/runner/output" \
    GITHUB_API_URL="http://127.0.0.1:$api_port" GH_TOKEN=ghs_secret123 \
    CRCR_REPOSITORY=example-org/crcr CRCR_VERSION="$1" bash -c "$run"
}

# action.yml: a composite action with an optional version, whose step passes what the script reads.
expect 0 "action.yml is a composite action" -- python3 - "$root/action.yml" <<'PY'
import sys, yaml
action = yaml.safe_load(open(sys.argv[1]))
assert action["runs"]["using"] == "composite", action["runs"]
assert action["inputs"]["version"]["required"] is False
assert action["inputs"]["version"]["default"] == ""
step = action["runs"]["steps"][0]
assert step["shell"] == "bash"
assert step["env"] == {"CRCR_VERSION": "${{ inputs.version }}",
                       "CRCR_REPOSITORY": "${{ github.action_repository }}",
                       "GH_TOKEN": "${{ inputs.github-token }}"}, step["env"]
assert action["outputs"]["version"]["value"] == "${{ steps.install.outputs.version }}"
PY

expect 0 "install v0.1.0" -- install 0.1.0
contains "Installed crcr 0.1.0 from example-org/crcr" "installed"
expect 0 "the installed crcr runs from the GITHUB_PATH entry" -- "$(cat "$tmp/runner/path")/crcr"
contains "crcr 0.1.0" "the version asked for"
expect 0 "GITHUB_OUTPUT" -- cat "$tmp/runner/output"
contains "version=0.1.0" "the version output"
expect 0 "the server's log" -- cat "$tmp/server.log"
contains "api: GET /repos/example-org/crcr/releases/tags/v0.1.0 (with token)" "the release JSON, with the token"
contains "downloads: GET /v0.1.0/crcr-0.1.0-linux-x86_64.tar.gz (no token)" "the download, redirected, without the token"

expect 0 "install the latest release" -- install ""
contains "Installed crcr 0.2.0" "the latest is 0.2.0"
expect 0 "the latest runs" -- "$(cat "$tmp/runner/path")/crcr"
contains "crcr 0.2.0" "the latest's binary"
expect 0 "a version given as a tag" -- install v0.1.0
contains "Installed crcr 0.1.0" "v0.1.0 is 0.1.0"

expect 1 "a release that does not exist" -- install 9.9.9
contains "::error title=crcr is not installed::no release v9.9.9 in example-org/crcr" "says which release is missing"
expect 1 "a tarball that does not match SHA256SUMS" -- install 0.3.0
contains "crcr-0.3.0-linux-x86_64.tar.gz does not match SHA256SUMS" "the checksum mismatch is named"
checks=$((checks + 1))
if [ -e "$tmp/runner/temp/crcr/bin/crcr" ] || [ -s "$tmp/runner/path" ]; then
  echo "FAIL: a tarball that fails its checksum was installed"
  fails=$((fails + 1))
fi
expect 1 "a release without the tarball" -- install 0.4.0
contains "release v0.4.0 of example-org/crcr has no asset crcr-0.4.0-linux-x86_64.tar.gz" "the missing asset is named"
kill "$server"
wait "$server" 2>/dev/null
server=
expect 1 "the API unreachable" -- install 0.1.0
contains "cannot reach http://127.0.0.1:$api_port/repos/example-org/crcr/releases/tags/v0.1.0" "the unreachable API is named"
finish
