#pragma once

// POSIX shell words: quoting a list of arguments so that bash reads them back exactly (to record a
// command line that can be run again), and splitting such a line back into its arguments. Pure.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crcr {

// `word` as one shell word: as is when it is made only of characters no shell treats specially,
// in single quotes otherwise, and as bash's `$'...'` when it holds control characters or line
// breaks (including U+0085, U+2028 and U+2029), so the result is always one printable line.
std::string shell_quote(std::string_view word);

// The words of `args`, each quoted by `shell_quote`, separated by single spaces.
std::string shell_join(const std::vector<std::string>& args);

// Splits `line` into words as bash would (spaces and tabs separate; '...', "...", $'...' and
// backslashes quote; no expansion). Nothing when a quote is left open; `why` then says which.
std::optional<std::vector<std::string>> shell_split(std::string_view line,
                                                    std::string* why = nullptr);

} // namespace crcr
