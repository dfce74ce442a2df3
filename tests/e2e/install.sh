#!/usr/bin/env bash
# `cmake --install` into a temporary prefix puts each file where it belongs, crcr finds its helper
# program (and loads none of the relay's libraries itself), man reads the page, and each shell
# finds the completion script where it looks for installed ones.
#   install.sh CMAKE BUILD_DIR
set -u
cmake=$1
build=$2
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

expect 0 "cmake --install" -- "$cmake" --install "$build" --prefix "$prefix"
for file in bin/crcr libexec/crcr/crcr-relay share/man/man1/crcr.1 share/bash-completion/completions/crcr \
  share/zsh/site-functions/_crcr share/fish/vendor_completions.d/crcr.fish; do
  checks=$((checks + 1))
  [ -f "$prefix/$file" ] || { echo "FAIL: $file is not installed"; fails=$((fails + 1)); }
done
for file in bin/crcr libexec/crcr/crcr-relay; do
  checks=$((checks + 1))
  [ -x "$prefix/$file" ] || { echo "FAIL: $file is not executable"; fails=$((fails + 1)); }
done
expect 0 "installed crcr --version" -- "$prefix/bin/crcr" --version
contains "crcr " "--version"

# crcr loads neither cpp-httplib (nor libssl, zlib, brotli through it) nor SQLite: only its helper
# crcr-relay does, which it executes for `relay serve` and `relay status` (include/crcr/helper.hpp).
# Nor libcrypto, loaded when something is signed (include/crcr/openssl.hpp), nor libcurl.
unloaded='libcpp-httplib|libsqlite3|libssl|libcrypto|libcurl|libz\.|libbrotli'
expect 0 "ldd crcr" -- ldd "$prefix/bin/crcr"
checks=$((checks + 1))
if grep -qE "$unloaded" <<<"$out"; then
  echo "FAIL: crcr loads at start-up a library that only some commands use:"
  grep -E "$unloaded" <<<"$out" | sed 's/^/    /'
  fails=$((fails + 1))
fi
# libcrypto that cannot be loaded (a file that is no library, found first): a command that signs
# says what to install and exits 5, without a crash; one that signs nothing runs.
mkdir -p "$tmp/broken-lib"
echo "not a library" >"$tmp/broken-lib/libcrypto.so.3"
expect 5 "simulate without a loadable libcrypto" -- env LD_LIBRARY_PATH="$tmp/broken-lib" \
  CRCR_WEBHOOK_SECRET=s "$prefix/bin/crcr" simulate push --seed 1
contains "crcr: error: cannot load libcrypto (OpenSSL 3): " "the missing libcrypto is named"
contains "; install Debian's libssl3 package" "the package to install is named"
checks=$((checks + 1))
if grep -qE "terminate|Aborted" <<<"$out"; then
  echo "FAIL: crcr aborted:"
  sed 's/^/    /' <<<"$out"
  fails=$((fails + 1))
fi
expect 0 "validate-allowlist without a loadable libcrypto" -- env LD_LIBRARY_PATH="$tmp/broken-lib" \
  "$prefix/bin/crcr" validate-allowlist "$(dirname "$0")/../../examples/allowlist.yml"
expect 0 "ldd crcr-relay" -- ldd "$prefix/libexec/crcr/crcr-relay"
contains "libcpp-httplib" "crcr-relay links cpp-httplib"
contains "libsqlite3" "crcr-relay links SQLite"
# The installed crcr runs relay status in the installed helper (its answer: there is no state),
# the global option before the command included.
expect 1 "installed crcr relay status" -- "$prefix/bin/crcr" -v relay status --state "$tmp/none.db"
contains "no relay state at '$tmp/none.db'" "crcr-relay ran relay status"
# Without its helper, crcr says where it looked; the other commands still run.
mv "$prefix/libexec/crcr/crcr-relay" "$tmp/crcr-relay"
expect 1 "relay status without crcr-relay" -- "$prefix/bin/crcr" relay status --state "$tmp/none.db"
contains "this command runs in crcr-relay, crcr's helper program, which is missing: not in '$prefix/libexec/crcr/'" \
  "the missing helper"
expect 0 "validate-allowlist without crcr-relay" -- "$prefix/bin/crcr" validate-allowlist \
  "$(dirname "$0")/../../examples/allowlist.yml"
mv "$tmp/crcr-relay" "$prefix/libexec/crcr/crcr-relay"

# The installed scripts are what the installed binary prints.
for pair in bash:share/bash-completion/completions/crcr zsh:share/zsh/site-functions/_crcr \
  fish:share/fish/vendor_completions.d/crcr.fish; do
  checks=$((checks + 1))
  if ! cmp -s <("$prefix/bin/crcr" completion "${pair%%:*}") "$prefix/${pair#*:}"; then
    echo "FAIL: ${pair#*:} differs from 'crcr completion ${pair%%:*}'"
    fails=$((fails + 1))
  fi
done

# man reads the page, by path and through MANPATH.
export MANPAGER=cat MANWIDTH=100
expect 0 "man -l" -- man -l "$prefix/share/man/man1/crcr.1"
contains "crcr - tools for PyTorch's Cross-Repository CI Relay" "man -l: NAME"
contains "EXIT STATUS" "man -l: EXIT STATUS"
contains "crcr completion bash|zsh|fish" "man -l: the completion command"
expect 0 "man crcr with MANPATH" -- env MANPATH="$prefix/share/man" man crcr
contains "validate-allowlist" "man crcr"

# Each shell finds the installed script by itself: bash-completion's on-demand loader through
# XDG_DATA_DIRS, zsh's compinit through $fpath, fish through XDG_DATA_DIRS.
if [ -f /usr/share/bash-completion/bash_completion ]; then
  expect 0 "bash-completion loads the installed script" -- env XDG_DATA_DIRS="$prefix/share" \
    bash --norc --noprofile -c '. /usr/share/bash-completion/bash_completion
      __load_completion crcr && complete -p crcr'
  contains "-F _crcr crcr" "bash-completion registers _crcr"
else
  echo "FAIL: bash-completion is not installed (scripts/deps.sh)"
  fails=$((fails + 1))
fi
expect 0 "zsh compinit finds _crcr" -- zsh -f -c "fpath=('$prefix/share/zsh/site-functions' \$fpath)
  autoload -Uz compinit && compinit -u -D && print -r -- \"crcr uses \$_comps[crcr]\""
contains "crcr uses _crcr" "zsh binds crcr to _crcr"
expect 0 "fish finds crcr.fish" -- env HOME="$tmp" XDG_DATA_DIRS="$prefix/share" PATH="$prefix/bin:$PATH" \
  fish -c 'complete -C "crcr completion "'
contains "zsh" "fish completes from the installed script"
finish
