#!/usr/bin/env bash
# Every command answers --help with examples, and a usage error exits 2 (git's t0012).
set -u
crcr=$1
. "$(dirname "$0")/lib.sh"

expect 0 "crcr --help" -- "$crcr" --help
commands=$(awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' <<<"$out")
[ -n "$commands" ] || { echo "FAIL: no commands listed by --help"; fails=$((fails + 1)); }
for command in $commands; do
  expect 0 "$command --help" -- "$crcr" "$command" --help
  contains "Examples:" "$command --help has examples"
  expect 2 "$command with an unknown option" -- "$crcr" "$command" --no-such-option
  contains "crcr: error:" "$command usage error message"
done
expect 0 "--version" -- "$crcr" --version
contains "crcr " "version"
expect 2 "no command" -- "$crcr"
finish
