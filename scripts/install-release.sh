#!/usr/bin/env bash
# Installs crcr's portable release binary from a GitHub release, as action.yml runs it (usable
# anywhere with bash, curl, python3, sha256sum and tar):
#   CRCR_REPOSITORY  OWNER/NAME that publishes the releases (required)
#   CRCR_VERSION     the version (release tag v<version>); empty: the latest release
#   GITHUB_API_URL   the API (default https://api.github.com; GHES https://HOST/api/v3)
#   GH_TOKEN         optional token for the API
#   CRCR_INSTALL_DIR where to unpack (default $RUNNER_TEMP/crcr or ~/.local/crcr)
# The release JSON names the assets; crcr-<version>-linux-x86_64.tar.gz and SHA256SUMS are
# downloaded through the API (which redirects to the file), the tarball's SHA-256 checked against
# SHA256SUMS, unpacked, and its bin/ added to $GITHUB_PATH (printed otherwise). `version=` goes to
# $GITHUB_OUTPUT.
set -euo pipefail

fail() {
  echo "::error title=crcr is not installed::$*" >&2
  exit 1
}

repository=${CRCR_REPOSITORY:-}
[ -n "$repository" ] || fail "CRCR_REPOSITORY (OWNER/NAME publishing crcr's releases) is not set"
api=${GITHUB_API_URL:-https://api.github.com}
api=${api%/}
version=${CRCR_VERSION:-}
version=${version#v}
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] ||
  fail "crcr's release binary is for Linux x86-64; this runner is $(uname -s) $(uname -m): build crcr from source"
for tool in curl python3 sha256sum tar; do
  command -v "$tool" >/dev/null || fail "'$tool' is needed to install crcr and is not on PATH"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
auth=()
[ -n "${GH_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $GH_TOKEN")
# fetch URL FILE [ACCEPT]: the body of a GET into FILE, following redirects (curl sends the token
# only to the API's own host, never to the host a download redirects to); prints the status.
fetch() {
  curl --silent --show-error --location --retry 3 --connect-timeout 20 --max-time 300 \
    -H "Accept: ${3:-application/vnd.github+json}" -H "X-GitHub-Api-Version: 2022-11-28" \
    "${auth[@]}" -o "$2" -w '%{http_code}' "$1" || true # 000 when no answer came
}

if [ -n "$version" ]; then
  release_url=$api/repos/$repository/releases/tags/v$version
else
  release_url=$api/repos/$repository/releases/latest
fi
status=$(fetch "$release_url" "$work/release.json")
case $status in
  200) ;;
  404) fail "no release ${version:+v$version }in $repository ($release_url answered 404)" ;;
  000) fail "cannot reach $release_url" ;;
  *) fail "$release_url answered HTTP $status: $(head -c 300 "$work/release.json")" ;;
esac

# The tag's version, and the API URL of each asset the install needs.
read -r version tarball_url sums_url < <(python3 - "$work/release.json" <<'PY'
import json, sys
release = json.load(open(sys.argv[1]))
tag = str(release.get("tag_name", ""))
version = tag[1:] if tag.startswith("v") else tag
assets = {a.get("name"): a.get("url", "") for a in release.get("assets", []) if isinstance(a, dict)}
name = f"crcr-{version}-linux-x86_64.tar.gz"
print(version or "-", assets.get(name) or "-", assets.get("SHA256SUMS") or "-")
PY
)
name=crcr-$version-linux-x86_64.tar.gz
[ "$tarball_url" != - ] || fail "release v$version of $repository has no asset $name"
[ "$sums_url" != - ] || fail "release v$version of $repository has no SHA256SUMS asset to check $name against"

for asset in "$name $tarball_url" "SHA256SUMS $sums_url"; do
  read -r file url <<<"$asset"
  status=$(fetch "$url" "$work/$file" application/octet-stream)
  [ "$status" = 200 ] || fail "downloading $file from $url: HTTP $status"
done
expected=$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1; exit }' "$work/SHA256SUMS")
[ -n "$expected" ] || fail "SHA256SUMS of v$version does not list $name"
actual=$(sha256sum "$work/$name" | cut -d' ' -f1)
[ "$actual" = "$expected" ] ||
  fail "$name does not match SHA256SUMS (SHA-256 $actual, expected $expected): not installed"

dest=${CRCR_INSTALL_DIR:-${RUNNER_TEMP:-$HOME/.local}/crcr}
rm -rf "$dest"
mkdir -p "$dest"
tar -xzf "$work/$name" -C "$dest" --strip-components=1
"$dest/bin/crcr" --version >/dev/null || fail "the installed $dest/bin/crcr does not run"
if [ -n "${GITHUB_PATH:-}" ]; then
  echo "$dest/bin" >>"$GITHUB_PATH"
else
  echo "crcr $version is in $dest/bin: add it to PATH"
fi
[ -z "${GITHUB_OUTPUT:-}" ] || echo "version=$version" >>"$GITHUB_OUTPUT"
echo "Installed crcr $version from $repository (SHA-256 $actual checked)"
