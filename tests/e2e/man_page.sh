#!/usr/bin/env bash
# The man page as `man -l` renders it: every JSON shape (written in the source as a text line
# `\fB{"key": ...}\fR`, never as macro arguments, whose quotes troff would take) comes out intact,
# at a narrow and a wide terminal, with no hyphen breaking a word.
#   man_page.sh MAN_PAGE
set -u
page=$1
. "$(dirname "$0")/lib.sh"

# Macro lines with a JSON object in their arguments lose its quotes: none may be left.
checks=$((checks + 1))
if grep -nE '^\.(B|I|R|BR|RB|BI|IB|IR|RI) .*\{"' "$page" >/dev/null; then
  echo "FAIL: JSON in macro arguments (troff drops their quotes); write it as a \\fB...\\fR text line:"
  grep -nE '^\.(B|I|R|BR|RB|BI|IB|IR|RI) .*\{"' "$page" | sed 's/^/    /'
  fails=$((fails + 1))
fi

# Each shape as the source writes it, font changes and troff escapes undone.
mapfile -t shapes < <(grep -oE '\\fB[0-9 ]*\{".*\}\\fR' "$page" |
  sed -E 's/\\f[BIR]//g; s/\\-/-/g; s/\\\(dq/"/g')
checks=$((checks + 1))
if [ "${#shapes[@]}" -lt 15 ]; then
  echo "FAIL: only ${#shapes[@]} JSON shapes found in $page"
  fails=$((fails + 1))
fi
for width in 80 200; do
  rendered=$(MANWIDTH=$width MAN_KEEP_FORMATTING= MANPAGER=cat man -l "$page" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' |
    tr -s ' \n' '  ')
  for shape in "${shapes[@]}"; do
    checks=$((checks + 1))
    if ! grep -qF -- "$(tr -s ' ' <<<"$shape")" <<<"$rendered"; then
      echo "FAIL: at $width columns, man -l does not render intact: $shape"
      fails=$((fails + 1))
    fi
  done
  checks=$((checks + 1))
  if grep -qE '[a-z]‐ [a-z]' <<<"$rendered"; then
    echo "FAIL: at $width columns, a word is hyphenated across lines: $(grep -oE '[a-z]+‐ [a-z]+' <<<"$rendered" | head -3)"
    fails=$((fails + 1))
  fi
done
finish
