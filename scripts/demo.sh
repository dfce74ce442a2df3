#!/usr/bin/env bash
# crcr's main job on the bundled examples: installs what is missing, builds, then checks a good
# and a broken allowlist and compares two real versions of PyTorch's allowlist.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh || exit 1
scripts/build.sh build || exit 1
crcr=build/crcr

run() {
  printf '\n$ crcr %s\n' "$*"
  "$crcr" "$@"
  printf '(exit status %d)\n' "$?"
}

run validate-allowlist examples/allowlist.yml
run validate-allowlist examples/broken-allowlist.yml
run validate-allowlist --base examples/pytorch-allowlist-2026-04.yml examples/pytorch-allowlist-2026-08.yml
exit 0
