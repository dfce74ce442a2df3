# Helpers for the end-to-end scripts: each runs the built binary as a user would.
fails=0
checks=0

# expect CODE DESCRIPTION -- COMMAND...: runs COMMAND, keeps its output in $out, checks the status.
expect() {
  local want=$1 what=$2
  shift 3
  checks=$((checks + 1))
  out=$("$@" 2>&1)
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: $what: exit $got, wanted $want"
    echo "$out" | head -20 | sed 's/^/    /'
    fails=$((fails + 1))
  fi
}

# contains TEXT DESCRIPTION: checks that the last output contains TEXT.
contains() {
  checks=$((checks + 1))
  if ! grep -qF -- "$1" <<<"$out"; then
    echo "FAIL: $2: output lacks '$1'"
    echo "$out" | head -20 | sed 's/^/    /'
    fails=$((fails + 1))
  fi
}

finish() {
  echo "$((checks - fails)) passed, $fails failed"
  [ "$fails" -eq 0 ]
}
