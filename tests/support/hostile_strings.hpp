#pragma once

// Strings that break naive YAML, shell or GitHub-expression quoting: every test that checks that
// crcr writes text so it means exactly what was given runs through all of them. The e2e script
// tests/e2e/gen_workflow.sh has the same list for the generated workflows.

#include <string>
#include <vector>

namespace crcr::test {

inline const std::vector<std::string>& hostile_strings() {
    static const std::vector<std::string> k_strings = {
        "it's \"quoted\"",
        "key: value # not a comment",
        "${{ github.token }}",
        "echo ${{ unclosed",
        "}} ${{ '${{' }} {{ }}",
        "line one\nline two",
        "two lines with a final newline\nsecond\n",
        "several final newlines\n\n\n",
        "\n starts with a newline",
        "- leading dash",
        "* leading star",
        "&anchor *alias !tag %directive @at `back` |pipe >fold",
        "unicode: \u00e9 \u00f1 \u65e5\u672c \U0001F680",
        "line separator\u2028next line\u0085 bom\ufeff",
        " leading and trailing space ",
        "tab\there\tand\tthere",
        "yes",
        "null",
        "~",
        "0x1F",
        "1e3",
        "on",
        "\"",
        "'",
        "back\\slash C:\\path\\n",
        "[a, b]",
        "{a: b}",
        "a\r\nb\rc",
        "control \x01\x1f\x7f characters",
        "--",
        "-",
        "#",
        "? key",
        ":",
        "a:b",
        "ends with colon:",
        "--- document marker",
        "...",
        "<<",
        "=",
    };
    return k_strings;
}

} // namespace crcr::test
