#!/usr/bin/env bash
# The release tarball (scripts/release.sh): its files; a binary that needs nothing but glibc, and
# no glibc newer than the README promises (the oldest Ubuntu runner image it names); and that
# binary run in a bare Debian root made with `debootstrap --variant=minbase`, where none of crcr's
# build dependencies exist. The root is made once and kept in the build folder; debootstrap needs
# root (or user namespaces) and deb.debian.org, and the test says so when it cannot have them.
#   release.sh SOURCE_DIR BUILD_DIR
set -u
root=$1
build=$2
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dist=$build/release

expect 0 "scripts/release.sh" -- "$root/scripts/release.sh" "$dist"
version=$(sed -n 's/^project(crcr VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
name=crcr-$version-linux-x86_64
tarball=$dist/$name.tar.gz
if [ ! -f "$tarball" ]; then
  echo "FAIL: scripts/release.sh made no $tarball:"
  echo "$out" | tail -20 | sed 's/^/    /'
  exit 1
fi
expect 0 "SHA256SUMS verifies" -- sh -c "cd '$dist' && sha256sum -c SHA256SUMS"
expect 0 "tar -tzf" -- tar -tzf "$tarball"
for file in bin/crcr share/man/man1/crcr.1 share/bash-completion/completions/crcr \
  share/zsh/site-functions/_crcr share/fish/vendor_completions.d/crcr.fish LICENSE; do
  contains "$name/$file" "the tarball holds $file"
done
tar -C "$tmp" -xzf "$tarball"
binary=$tmp/$name/bin/crcr

# Nothing but glibc's own libraries (libcurl is loaded with dlopen when a request is sent).
needed=$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
checks=$((checks + 1))
for library in $needed; do
  case $library in
    libc.so.6 | libm.so.6 | ld-linux-x86-64.so.2) ;;
    *) echo "FAIL: the release binary needs $library (NEEDED: $needed)"; fails=$((fails + 1)) ;;
  esac
done
echo "NEEDED: $needed"

# The newest glibc symbol version it needs is the oldest glibc it runs with (packed relative
# relocations, GLIBC_ABI_DT_RELR, came with glibc 2.36).
glibc=$(readelf --version-info --wide "$binary" | grep -oE 'Name: GLIBC_([0-9.]+|ABI_DT_RELR)' |
  sed 's/.*GLIBC_//; s/^ABI_DT_RELR$/2.36/' | sort -V | tail -1)
echo "newest glibc symbol version needed: $glibc"
promised=$(sed -n 's/.*runs on glibc \([0-9.]*\) and newer.*/\1/p' "$root/README.md" | head -1)
checks=$((checks + 1))
if [ -z "$glibc" ] || [ -z "$promised" ]; then
  echo "FAIL: no glibc version measured ('$glibc') or none in README.md's 'runs on glibc X and newer' ('$promised')"
  fails=$((fails + 1))
elif [ "$(printf '%s\n%s\n' "$glibc" "$promised" | sort -V | tail -1)" != "$promised" ]; then
  echo "FAIL: the binary needs glibc $glibc, newer than README.md promises ($promised)"
  fails=$((fails + 1))
fi

# A bare Debian 12 root, made once per machine and kept with crcr's other downloads (like ccache's
# objects, so fresh clones reuse it); each run works in a folder of its own inside it.
debian=${CRCR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/crcr}/debian-bookworm-minbase
run_in_root=(chroot "$debian")
if [ "$(id -u)" -ne 0 ]; then
  run_in_root=(unshare --map-root-user --root="$debian")
fi
if [ ! -f "$debian/.crcr-complete" ]; then
  if ! command -v debootstrap >/dev/null; then
    echo "FAIL: debootstrap is not installed (scripts/deps.sh installs it): the release binary cannot be run in a bare Debian root"
    exit 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "FAIL: debootstrap needs root to make the bare Debian root $debian (run this test once as root; later runs reuse it)"
    exit 1
  fi
  rm -rf "$debian"
  if ! debootstrap --variant=minbase bookworm "$debian" "${CRCR_DEBIAN_MIRROR:-http://deb.debian.org/debian}" \
    >"$tmp/debootstrap.log" 2>&1; then
    echo "FAIL: debootstrap could not make a bare Debian 12 root from ${CRCR_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
    echo "  (is the archive reachable from this machine? CRCR_DEBIAN_MIRROR=URL picks a mirror); its log ends:"
    tail -15 "$tmp/debootstrap.log" | sed 's/^/    /'
    rm -rf "$debian"
    exit 1
  fi
  touch "$debian/.crcr-complete"
fi
# None of the build dependencies is there.
for library in libyaml-0.so.2 libfmt.so.9 libpugixml.so.1 libsqlite3.so.0 libcurl.so.4 libcrypto.so.3 libcpp-httplib.so.0.11; do
  checks=$((checks + 1))
  if [ -e "$debian/usr/lib/x86_64-linux-gnu/$library" ]; then
    echo "FAIL: the bare root has $library: it is not bare"
    fails=$((fails + 1))
  fi
done
rm -rf "$debian/opt/crcr-test-$$"
mkdir -p "$debian/opt/crcr-test-$$"
cp "$binary" "$root/examples/allowlist.yml" "$root/examples/broken-allowlist.yml" "$debian/opt/crcr-test-$$/"
in_root() { "${run_in_root[@]}" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root "$@"; }
expect 0 "--version in the bare root" -- in_root /opt/crcr-test-$$/crcr --version
contains "crcr $version" "--version"
expect 0 "validate-allowlist in the bare root" -- in_root /opt/crcr-test-$$/crcr validate-allowlist /opt/crcr-test-$$/allowlist.yml
expect 1 "validate-allowlist finds errors in the bare root" -- in_root /opt/crcr-test-$$/crcr validate-allowlist /opt/crcr-test-$$/broken-allowlist.yml
contains "error:" "findings"
expect 0 "gen-workflow in the bare root" -- in_root /opt/crcr-test-$$/crcr gen-workflow --level L2 --callback crcr --output -
contains "crcr callback --status completed" "the generated workflow"
expect 0 "gen-workflow --check in the bare root" -- in_root sh -c "/opt/crcr-test-$$/crcr gen-workflow --level L2 --output /opt/crcr-test-$$/ci.yml && /opt/crcr-test-$$/crcr gen-workflow --check /opt/crcr-test-$$/ci.yml"
# Without libcurl, a command that sends says what to install; no crash.
expect 5 "a request without libcurl in the bare root" -- in_root /opt/crcr-test-$$/crcr simulate pull_request opened --send http://127.0.0.1:9/
contains "crcr: error: cannot load libcurl" "the missing libcurl is named"
contains "libcurl4" "the package to install is named"
rm -rf "$debian/opt/crcr-test-$$"
finish
