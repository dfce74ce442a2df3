#pragma once

// Writing YAML that means exactly what it is given, for both readers a workflow meets: GitHub's
// YAML 1.2 parser and crcr's own PyYAML-faithful YAML 1.1 loader. Block style only; every string
// is written plain only when both read it back as that same string, else as a literal block
// (multi-line text) or double-quoted with escapes. Pure.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crcr::yaml {

// A value to write: a string, a scalar written exactly as given (numbers, booleans), a list or a
// mapping whose keys keep their order.
struct Value {
    enum class Type { string, verbatim, sequence, mapping };
    Type type = Type::string;
    std::string text;
    std::vector<Value> items;
    std::vector<std::pair<std::string, Value>> entries;

    bool operator==(const Value&) const = default;
};

// A string value.
Value str(std::string text);
// A scalar written as is (`true`, `30`): the caller vouches that it is one plain token.
Value verbatim(std::string text);
// A list of `items`.
Value seq(std::vector<Value> items);
// A mapping of `entries`, in order.
Value map(std::vector<std::pair<std::string, Value>> entries);

// Whether `text` can be written as a plain scalar in block context and be read back by YAML 1.1
// and 1.2 as exactly that string (not a number, boolean, null, comment or other token).
bool is_plain_safe(std::string_view text);

// `text` in double quotes, every character either printable or escaped (`\n`, `\"`, `\u2028`,
// ...). Throws `crcr::Error` when `text` is not valid UTF-8.
std::string double_quoted(std::string_view text);

// `text` as a single-line scalar: plain when `is_plain_safe`, else double-quoted.
std::string inline_scalar(std::string_view text);

// `root` (a mapping) as a YAML document in block style, two spaces per level, ending with a
// newline. Throws `crcr::Error` when a string is not valid UTF-8.
std::string write(const Value& root);

} // namespace crcr::yaml
