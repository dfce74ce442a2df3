# Runs zsh's real completion system on command lines and prints what it offers.
#   zsh -f zsh_complete.zsh FPATH_DIR LINE...
# For each LINE: "== LINE", then the candidates, one a line. An interactive zsh in a
# pseudo-terminal (zsh/zpty) loads compinit with FPATH_DIR first in $fpath, so _crcr autoloads
# as it does once installed; each LINE is typed followed by Tab. A wrapper around compadd
# records every match the completion functions add (our script's and _files'), and the Tab
# widget writes a marker when completion is over.
emulate -L zsh
zmodload zsh/zpty || exit 1
fpath_dir=$1
shift

tmp=$(mktemp -d) || exit 1
trap 'zpty -d crcr_zsh 2>/dev/null; rm -rf $tmp' EXIT
capture=$tmp/capture

cat >$tmp/setup.zsh <<EOF
PS1='' RPS1='' PROMPT2=''
unsetopt beep list_beep
LISTMAX=100000
fpath=(${(q)fpath_dir} \$fpath)
autoload -Uz compinit && compinit -u -D
compadd() {
    # Calls that only collect (-O, -A, -D) are the completion functions' own business.
    if (( \${@[(I)-[OAD]]} )); then
        builtin compadd "\$@"
        return
    fi
    local -a __crcr_matches
    builtin compadd -O __crcr_matches "\$@"
    # As inserted: after the prefix that compset moved out of the word (--option=).
    (( \${#__crcr_matches} )) && print -rl -- "\${IPREFIX}\${^__crcr_matches[@]}" >>${(q)capture}
    builtin compadd "\$@"
}
__crcr_capture() {
    _main_complete
    local ret=\$?
    print -r -- '<crcr-done>' >>${(q)capture}
    return \$ret
}
zle -C crcr-capture complete-word __crcr_capture
bindkey '^I' crcr-capture
EOF

zpty crcr_zsh zsh -f -i || exit 1
zpty -w crcr_zsh "source ${(q)tmp}/setup.zsh"

drain() {
    local chunk
    while zpty -r -t crcr_zsh chunk 2>/dev/null; do :; done
}

for line in "$@"; do
    : >$capture
    zpty -w -n crcr_zsh $'\C-u'"$line"$'\t'
    integer waited=0
    until grep -q '^<crcr-done>$' $capture 2>/dev/null; do
        drain
        sleep 0.05
        (( ++waited < 400 )) || { print -r -- "zsh_complete: no completion for '$line' in 20 s" >&2; exit 1 }
    done
    print -r -- "== $line"
    grep -v '^<crcr-done>$' $capture
done
exit 0
