# bash completion for crcr                                  -*- shell-script -*-
#
# Install: source <(crcr completion bash), or copy this file to
# /usr/share/bash-completion/completions/crcr (cmake --install and the .deb do).
#
# The candidates come from crcr itself (`crcr __complete -- WORD...` prints one per line, then
# ":files" when file names fit), so new commands and options complete without editing this file.

_crcr() {
    local crcr=${COMP_WORDS[0]}
    [[ $crcr == "~/"* ]] && crcr=$HOME/${crcr#"~/"}

    # The words after "crcr" up to the cursor, with --option=value joined again: bash splits
    # words at the characters in COMP_WORDBREAKS, '=' among them.
    local -a words=()
    local i word joined=0
    for ((i = 1; i <= COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if ((${#words[@]} > 0)); then
            if [[ $word == = && ${words[-1]} == --* && ${words[-1]} != *=* ]]; then
                words[-1]+==
                joined=1
                continue
            elif ((joined)); then
                words[-1]+=$word
                joined=0
                continue
            fi
        fi
        words+=("$word")
    done
    ((${#words[@]} > 0)) || words=("")

    # What readline replaces is the text after the last '=' (it is a word break), so a candidate
    # "--format=json" goes in as "json".
    local current=${words[-1]} strip=""
    if [[ $current == --*=* && $COMP_WORDBREAKS == *=* ]]; then
        strip=${current%%=*}=
    fi

    COMPREPLY=()
    local line files=0
    while IFS= read -r line; do
        if [[ $line == :files ]]; then
            files=1
        elif [[ -n $line ]]; then
            line=${line%%$'\t'*}
            COMPREPLY+=("${line#"$strip"}")
        fi
    done < <("$crcr" __complete -- "${words[@]}" 2>/dev/null)

    if ((files)); then
        compopt -o filenames 2>/dev/null
        local IFS=$'\n'
        COMPREPLY+=($(compgen -f -- "${current#"$strip"}"))
    fi
}

complete -F _crcr crcr
