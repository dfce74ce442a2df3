#!/usr/bin/env bash
# tests/check_cases_ran.sh against a stand-in test binary: equal lists pass; a case no entry ran,
# a case two entries ran, a name ctest's discovery cannot select, and a name used twice fail,
# each named in the message.
#   tests/e2e/check_cases_ran.sh SOURCE_DIR
set -uo pipefail
check=$1/tests/check_cases_ran.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# case NAME EXPECTED_STATUS EXPECTED_TEXT KNOWN RAN: KNOWN and RAN are lines of case names.
case_() {
  local name=$1 expected=$2 text=$3
  printf '#!/bin/sh\nprintf "%%s\\n" "===============================================================================" %s "===============================================================================" "[doctest] unskipped test cases passing the current filters: 0"\n' \
    "$(printf '%s\n' "$4" | sed "s/'/'\\\\''/g; s/.*/'&'/" | tr '\n' ' ')" >"$tmp/binary"
  chmod +x "$tmp/binary"
  printf '%s' "$5" >"$tmp/ran"
  local out status
  out=$("$check" "$tmp/binary" "$tmp/ran" 2>&1)
  status=$?
  if [ "$status" -ne "$expected" ] || ! grep -qF -- "$text" <<<"$out"; then
    echo "FAIL: $name: exit $status (expected $expected), output: $out"
    failures=$((failures + 1))
  fi
}

case_ "all ran once" 0 "doctest cases: 2 known, 2 run" $'a: one\nb, two' $'b, two\na: one\n'
case_ "one never ran" 1 "that no ctest entry ran:"$'\n'"b, two" $'a: one\nb, two' $'a: one\n'
case_ "one ran twice" 1 "run by more than one ctest entry:"$'\n'"a: one" $'a: one\nb, two' $'a: one\nb, two\na: one\n'
case_ "a name with ;" 1 "ctest cannot select them" $'a; one\nb' $'b\n'
case_ "a name with *" 1 "ctest cannot select them" $'a* one\nb' $'a* one\nb\n'
case_ "a name used twice" 1 "used twice" $'a\na' $'a\n'
case_ "nothing ran" 1 "doctest cases: 1 known, 0 run" $'a' ''

[ "$failures" -eq 0 ] && echo "check_cases_ran.sh: 7 cases passed" || exit 1
