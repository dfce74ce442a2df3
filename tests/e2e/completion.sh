#!/usr/bin/env bash
# A shell runs crcr's completion script for real over the table in tests/data/completion/cases.txt
# and offers exactly the candidates listed there.
#   completion.sh bash|zsh|fish CRCR
# bash: the script from `crcr completion bash`, registered with `complete`, called the way
# readline calls it (COMP_WORDS, COMP_CWORD, COMPREPLY); zsh: _crcr autoloaded from $fpath by
# compinit and run by Tab in a pseudo-terminal (zsh_complete.zsh); fish: `crcr completion fish`
# sourced, then `complete -C LINE`.
set -u
shell=$1
crcr=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
command -v "$shell" >/dev/null || { echo "FAIL: $shell is not installed (scripts/deps.sh)"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The scripts call the crcr the line names: the one under test, first in PATH.
mkdir -p "$tmp/bin" "$tmp/work/sub"
ln -s "$crcr" "$tmp/bin/crcr"
export PATH="$tmp/bin:$PATH"
touch "$tmp/work/allow.yml" "$tmp/work/notes.txt" "$tmp/work/sub/inner.jsonl"
cd "$tmp/work" || exit 1

lines=()
wants=()
while IFS= read -r entry; do
  [[ -z $entry || $entry == '#'* ]] && continue
  lines+=("${entry%%|*}")
  wants+=("${entry#*|}")
done <"$source_dir/tests/data/completion/cases.txt"

# bash_candidates LINE: COMPREPLY of the registered completion function, one a line.
bash_candidates() {
  bash --norc --noprofile -c '
    source <(crcr completion bash) || exit 1
    spec=$(complete -p crcr) || exit 1
    function=${spec##*-F }
    function=${function%% *}
    read -ra COMP_WORDS <<<"$1"
    [[ $1 == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$1
    COMP_POINT=${#1}
    "$function" crcr "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf "%s\n" "${COMPREPLY[@]}"
  ' bash "$1"
}

# fish_candidates LINE: what `complete -C` offers, without descriptions.
fish_candidates() {
  HOME=$tmp fish --no-config -c 'crcr completion fish | source; complete -C $argv[1]' "$1" | cut -f1
}

# check LINE WANT GOT: GOT (candidates one a line) is WANT (sorted, space-separated).
check() {
  local line=$1 want=$2 got
  got=$(sort -u <<<"$3" | grep -v '^$' | tr '\n' ' ')
  got=${got% }
  checks=$((checks + 1))
  if [[ $want == *" ..." || $want == "..." ]]; then
    local word missing=""
    for word in ${want% ...}; do
      [[ " $got " == *" $word "* ]] || missing+=" $word"
    done
    [[ -z $missing ]] && return
    echo "FAIL: $shell: '$line': missing$missing; got: $got"
  elif [[ $got == "$want" ]]; then
    return
  else
    echo "FAIL: $shell: '$line': wanted '$want', got '$got'"
  fi
  fails=$((fails + 1))
}

# zsh and fish keep --option=value as one word and offer it whole (bash: below).
if [[ $shell != bash ]]; then
  lines+=("crcr validate-allowlist --format=j" "crcr callback --junit=al")
  wants+=("--format=json" "--junit=allow.yml")
fi

case $shell in
bash)
  for i in "${!lines[@]}"; do
    check "${lines[i]}" "${wants[i]}" "$(bash_candidates "${lines[i]}")"
  done
  # Readline splits --format=js at '=' (COMP_WORDBREAKS) and replaces only the text after it.
  got=$(bash --norc --noprofile -c '
    source <(crcr completion bash)
    COMP_WORDS=(crcr validate-allowlist --format = j) COMP_CWORD=4
    _crcr crcr j =
    printf "%s\n" "${COMPREPLY[@]}"')
  check "crcr validate-allowlist --format=j" "json" "$got"
  got=$(bash --norc --noprofile -c '
    source <(crcr completion bash)
    COMP_WORDS=(crcr validate-allowlist --base =) COMP_CWORD=3
    _crcr crcr = --base
    printf "%s\n" "${COMPREPLY[@]}"')
  check "crcr validate-allowlist --base=" "allow.yml notes.txt sub" "$got"
  ;;
zsh)
  out=$(zsh -f "$here/zsh_complete.zsh" "$source_dir/completions" "${lines[@]}")
  [[ $? -eq 0 ]] || { echo "FAIL: zsh: the capture did not finish"; exit 1; }
  for i in "${!lines[@]}"; do
    got=$(awk -v line="== ${lines[i]}" '$0 == line { on = 1; next } /^== / { on = 0 } on' <<<"$out")
    check "${lines[i]}" "${wants[i]}" "$got"
  done
  ;;
fish)
  for i in "${!lines[@]}"; do
    check "${lines[i]}" "${wants[i]}" "$(fish_candidates "${lines[i]}")"
  done
  ;;
*)
  echo "usage: completion.sh bash|zsh|fish CRCR" >&2
  exit 2
  ;;
esac
finish
