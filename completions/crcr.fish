# fish completion for crcr
#
# Install: copy this file to ~/.config/fish/completions/crcr.fish (cmake --install and the .deb
# put it in share/fish/vendor_completions.d), or run: crcr completion fish | source
#
# The candidates come from crcr itself (`crcr __complete -- WORD...` prints "value<TAB>description"
# lines, then ":files" when file names fit), so new commands and options complete without
# editing this file.

function __crcr_complete
    set -l words (commandline -opc)
    set -l current (commandline -ct)
    set -l files 0
    for line in ($words[1] __complete -- $words[2..-1] $current 2>/dev/null)
        if test "$line" = :files
            set files 1
        else if test -n "$line"
            printf '%s\n' $line
        end
    end
    if test $files = 1
        # --option=FILE: complete what follows the '=', and keep the option in front.
        set -l option (string match -r -- '^--[^=]*=' $current)
        for path in (__fish_complete_path (string replace -r -- '^--[^=]*=' '' $current))
            printf '%s%s\n' "$option" $path
        end
    end
end

complete -c crcr -f -a '(__crcr_complete)'
