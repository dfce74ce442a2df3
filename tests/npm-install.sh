#!/usr/bin/env bash
# Installs the pinned npm packages of the folder DIR (tests/schema, tests/workflow) once;
# concurrent callers wait for each other.   tests/npm-install.sh DIR
set -euo pipefail
dir=$(cd "$1" && pwd)
exec 9>"$dir/.install.lock"
flock 9
if [ ! -f "$dir/node_modules/.crcr-installed" ] || [ "$dir/package.json" -nt "$dir/node_modules/.crcr-installed" ]; then
  (cd "$dir" && npm install --no-package-lock --no-audit --no-fund --silent >/dev/null)
  touch "$dir/node_modules/.crcr-installed"
fi
