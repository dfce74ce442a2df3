#!/usr/bin/env bash
# Compares the doctest cases a test binary knows with those its ctest entries ran (the file
# CRCR_TEST_CASES_RAN named during the run, see tests/main.cpp). Fails when a case ran in no
# entry or in several, and names why when a case's name breaks ctest's discovery.
#   tests/check_cases_ran.sh BUILD/tests/crcr_tests RAN_FILE
set -euo pipefail
binary=$1
ran_file=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --list-test-cases frames the names with a rule line and a "[doctest] ..." summary.
"$binary" --list-test-cases --no-version |
  grep -vE '^(=+|\[doctest\] .*)$' | sort >"$tmp/known"
[ -f "$ran_file" ] || : >"$ran_file"
sort "$ran_file" >"$tmp/ran"
known=$(wc -l <"$tmp/known")
ran=$(sort -u "$tmp/ran" | wc -l)
status=0

# ctest's discovery splits a name at ';', and doctest reads '*', '?' and '\' in a --test-case
# filter as patterns and escapes: such a name selects another case, or none.
if bad=$(grep -E '[;*?\\]' "$tmp/known"); then
  printf 'doctest case names with ; * ? or \\ (ctest cannot select them, rename them):\n%s\n' "$bad" >&2
  status=1
fi
if dup=$(uniq -d "$tmp/known" | grep .); then
  printf 'doctest case names used twice (each name must select one case):\n%s\n' "$dup" >&2
  status=1
fi
if twice=$(uniq -d "$tmp/ran" | grep .); then
  printf 'doctest cases run by more than one ctest entry:\n%s\n' "$twice" >&2
  status=1
fi
if missing=$(comm -23 "$tmp/known" <(sort -u "$tmp/ran") | grep .); then
  printf 'doctest cases that no ctest entry ran:\n%s\n' "$missing" >&2
  status=1
fi
if unknown=$(comm -13 "$tmp/known" <(sort -u "$tmp/ran") | grep .); then
  printf 'cases ran that the binary does not list:\n%s\n' "$unknown" >&2
  status=1
fi
echo "doctest cases: $known known, $ran run"
exit "$status"
