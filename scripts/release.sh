#!/usr/bin/env bash
# Builds crcr's release assets into OUT_DIR (default dist/):
#   crcr-<version>-linux-x86_64.tar.gz  the portable binary (it needs nothing but glibc; libcurl is
#                                        loaded when a request is sent), its man page, completions
#                                        and LICENSE, laid out as a prefix (bin/, share/)
#   crcr_<version>_amd64.deb             the Debian package (with --deb)
#   SHA256SUMS                           the checksums of both, as `sha256sum -c` reads them
# Nothing is published: .github/workflows/release.yml attaches the files to the GitHub release.
#   scripts/release.sh [--deb] [OUT_DIR]
# The portable build compiles cpp-httplib's single-file header, which Debian ships only as a
# shared library: its Debian source package (the exact version libcpp-httplib-dev installs, with
# Debian's security patches) is fetched once from deb.debian.org, checked against pinned SHA-256s,
# and kept in $CRCR_CACHE_DIR (default ~/.cache/crcr, shared by clones). The builds are
# incremental (OUT_DIR/build-*), through ccache.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
deb=0
if [ "${1:-}" = --deb ]; then
  deb=1
  shift
fi
out=${1:-$root/dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
version=$(sed -n 's/^project(crcr VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
[ -n "$version" ] || { echo "release: no version in CMakeLists.txt's project()" >&2; exit 1; }
name=crcr-$version-linux-x86_64

# cpp-httplib 0.11.4+ds-1+deb12u1, Debian 12's (what libcpp-httplib-dev is built from).
cache=${CRCR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/crcr}
httplib=$cache/cpp-httplib-0.11.4
if [ ! -f "$httplib/httplib.h" ]; then
  pool=${CRCR_DEBIAN_MIRROR:-http://deb.debian.org/debian}/pool/main/c/cpp-httplib
  download=$cache/download
  mkdir -p "$download"
  while read -r sha file; do
    if ! curl -fsSL --retry 3 -o "$download/$file" "$pool/${file//+/%2b}"; then
      echo "release: cannot download $pool/$file (is deb.debian.org reachable? CRCR_DEBIAN_MIRROR=URL picks a mirror)" >&2
      exit 1
    fi
    echo "$sha  $download/$file" | sha256sum -c --quiet - ||
      { echo "release: $file does not have its pinned SHA-256" >&2; exit 1; }
  done <<'FILES'
a4dde747bbde7cc9fa62cdf50d61140a0eaefb7f1383497ef2d48daf3bf5f9ec cpp-httplib_0.11.4+ds-1+deb12u1.dsc
8b1a5df569003b6a4f24c68489bbda5c64aec94697bdc9ebba5d79408b2ae7eb cpp-httplib_0.11.4+ds.orig.tar.xz
a0adf8a38610806f6d94ba69839438635e5e6580775e28ff31d6a081e34f1484 cpp-httplib_0.11.4+ds-1+deb12u1.debian.tar.xz
FILES
  rm -rf "$httplib"
  # dpkg-source applies Debian's patches (CVE fixes); the checksums above were checked already.
  dpkg-source --no-check -x "$download/cpp-httplib_0.11.4+ds-1+deb12u1.dsc" "$httplib" >/dev/null
fi

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
export CCACHE_BASEDIR=$root
repository=()
[ -n "${CRCR_GITHUB_REPOSITORY:-}" ] && repository=(-DCRCR_GITHUB_REPOSITORY="$CRCR_GITHUB_REPOSITORY")
configure() { # configure DIR CMAKE_ARGS...: once, then only when the arguments change
  local dir=$1
  shift
  cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    "${launcher[@]}" "${repository[@]}" "$@" >/dev/null
}

portable=$out/build-portable
configure "$portable" -DCRCR_PORTABLE=ON -DCRCR_HTTPLIB_HEADER_DIR="$httplib"
cmake --build "$portable" --target crcr -- -j"$(nproc)" | { grep -vE '^\[[0-9]+/[0-9]+\] ' || true; }
stage=$out/stage/$name
rm -rf "$out/stage"
cmake --install "$portable" --prefix "$stage" --strip >/dev/null
cp "$root/LICENSE" "$stage/LICENSE"
# Reproducible: names sorted, no owner, file times from the last commit (or 0 outside git).
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -C "$out/stage" -cf - "$name" |
  gzip -9n >"$out/$name.tar.gz"
assets=("$name.tar.gz")

if [ "$deb" -eq 1 ]; then
  configure "$out/build-deb"
  cmake --build "$out/build-deb" --target crcr -- -j"$(nproc)" | { grep -vE '^\[[0-9]+/[0-9]+\] ' || true; }
  rm -f "$out"/crcr_*.deb
  (cd "$out/build-deb" && cpack -G DEB -B "$out/cpack" >/dev/null)
  mv "$out"/cpack/crcr_*.deb "$out/"
  assets+=("$(cd "$out" && ls crcr_*.deb)")
fi
(cd "$out" && sha256sum "${assets[@]}" >SHA256SUMS)
for asset in "${assets[@]}" SHA256SUMS; do echo "$out/$asset"; done
