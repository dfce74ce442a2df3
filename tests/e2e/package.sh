#!/usr/bin/env bash
# The Debian package built from this build tree (no rebuild): its dependencies are the packages
# of the libraries crcr links (as dpkg-shlibdeps computes them) plus libcurl4, which crcr loads
# with dlopen; its files are where Debian wants them; and crcr runs from it. It is unpacked with
# `dpkg -x` into a temporary folder, so the test never changes the machine.
#   package.sh CPACK BUILD_DIR
set -u
cpack=$1
build=$2
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect 0 "cpack -G DEB" -- "$cpack" -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out"
debs=("$tmp"/out/crcr_*.deb)
if [ ! -f "${debs[0]}" ]; then
  echo "FAIL: no crcr_*.deb in $tmp/out"
  ls -R "$tmp/out" | head -20
  exit 1
fi
deb=${debs[0]}

expect 0 "dpkg-deb -I" -- dpkg-deb -I "$deb"
contains " Package: crcr" "package name"
contains " Version: $("$build/crcr" --version | sed -n '1s/^crcr //p')" "package version"
depends=$(dpkg-deb -f "$deb" Depends)
checks=$((checks + 1))
[[ $depends == *"libcurl4 (>= 7.85.0)"* ]] || { echo "FAIL: Depends lacks libcurl4: $depends"; fails=$((fails + 1)); }

# Every library the programs link (crcr and its helper crcr-relay) is provided by a package in
# Depends.
needed=$(objdump -p "$build/crcr" "$build/crcr-relay" | awk '$1 == "NEEDED" { print $2 }' | sort -u)
[ -n "$needed" ] || { echo "FAIL: objdump found no NEEDED libraries"; fails=$((fails + 1)); }
for library in $needed; do
  checks=$((checks + 1))
  path=$(ldconfig -p | awk -v l="$library" '$1 == l && /x86-64|x86_64|libc6,/ { print $NF; exit }')
  [ -n "$path" ] || path=$(ldconfig -p | awk -v l="$library" '$1 == l { print $NF; exit }')
  owner=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)
  [ -n "$owner" ] || owner=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)
  if [ -z "$owner" ]; then
    echo "FAIL: no package owns $library ($path)"
    fails=$((fails + 1))
  elif [[ ", $depends," != *", $owner "* && ", $depends," != *", $owner,"* ]]; then
    echo "FAIL: $library is in $owner, which Depends lacks: $depends"
    fails=$((fails + 1))
  fi
done

# Debian's own checks: no error, no warning (lintian is optional: scripts/deps.sh installs it).
if command -v lintian >/dev/null; then
  expect 0 "lintian" -- lintian --fail-on error,warning --tag-display-limit 0 "$deb"
  checks=$((checks + 1))
  if grep -qE '^[EW]: ' <<<"$out"; then
    echo "FAIL: lintian reports errors or warnings:"
    grep -E '^[EW]: ' <<<"$out" | sed 's/^/    /'
    fails=$((fails + 1))
  fi
else
  echo "note: lintian is not installed; the package's lintian check did not run"
fi

expect 0 "dpkg-deb -c" -- dpkg-deb -c "$deb"
for file in ./usr/bin/crcr ./usr/libexec/crcr/crcr-relay ./usr/share/man/man1/crcr.1.gz \
  ./usr/share/bash-completion/completions/crcr ./usr/share/zsh/vendor-completions/_crcr \
  ./usr/share/fish/vendor_completions.d/crcr.fish ./usr/share/doc/crcr/copyright \
  ./usr/share/doc/crcr/changelog.gz; do
  contains " $file" "the package holds $file"
done
checks=$((checks + 1))
if grep -qE ' \./usr/(local|share/zsh/site-functions)' <<<"$out"; then
  echo "FAIL: files outside Debian's layout:"
  grep -E ' \./usr/(local|share/zsh/site-functions)' <<<"$out"
  fails=$((fails + 1))
fi

# Installed into a throwaway root, crcr runs and its page reads.
expect 0 "dpkg -x" -- dpkg -x "$deb" "$tmp/root"
expect 0 "crcr --version from the package" -- "$tmp/root/usr/bin/crcr" --version
contains "crcr " "--version"
expect 0 "crcr --help from the package" -- "$tmp/root/usr/bin/crcr" --help
contains "completion" "--help lists completion"
# relay status runs in the packaged helper, found from the packaged crcr.
expect 1 "crcr relay status from the package" -- "$tmp/root/usr/bin/crcr" relay status --state "$tmp/none.db"
contains "no relay state at '$tmp/none.db'" "crcr-relay ran relay status"
expect 0 "man -l on the packaged page" -- env MANPAGER=cat man -l "$tmp/root/usr/share/man/man1/crcr.1.gz"
contains "EXIT STATUS" "the packaged page"
expect 0 "the packaged copyright file" -- cat "$tmp/root/usr/share/doc/crcr/copyright"
contains "License: BSD-3-Clause" "copyright names the license"
contains "Neither the name of the copyright holder" "copyright holds the license's text"
expect 0 "the packaged changelog" -- zcat "$tmp/root/usr/share/doc/crcr/changelog.gz"
contains "crcr ($("$build/crcr" --version | sed -n '1s/^crcr //p'))" "the changelog's latest entry is this version"
checks=$((checks + 1))
if ! cmp -s <("$tmp/root/usr/bin/crcr" completion zsh) "$tmp/root/usr/share/zsh/vendor-completions/_crcr"; then
  echo "FAIL: the packaged _crcr differs from 'crcr completion zsh'"
  fails=$((fails + 1))
fi
finish
