#include "crcr/yaml_writer.hpp"

#include "crcr/error.hpp"
#include "crcr/text.hpp"
#include "crcr/utf8.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace crcr::yaml {

namespace {

// The code points of `text`; throws for invalid UTF-8.
std::vector<std::uint32_t> code_points(std::string_view text) {
    std::vector<std::uint32_t> out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const std::optional<Utf8Char> c = decode_utf8(text, i);
        if (!c) {
            throw Error(fmt::format("'{}' is not valid UTF-8 text (byte 0x{:02x} at offset {})",
                                    std::string(text.substr(0, std::min<std::size_t>(i, 40))),
                                    static_cast<unsigned char>(text[i]),
                                    i));
        }
        out.push_back(c->code_point);
        i += c->length;
    }
    return out;
}

// Printable as-is inside a YAML 1.1 and 1.2 double-quoted string or literal block, and not a line
// break to either (YAML 1.1 breaks lines at U+0085, U+2028 and U+2029).
bool is_printable(std::uint32_t cp) {
    return (cp >= 0x20 && cp <= 0x7E)
           || (cp >= 0xA0 && cp <= 0xD7FF && cp != 0x2028 && cp != 0x2029)
           || (cp >= 0xE000 && cp <= 0xFFFD && cp != 0xFEFF) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

bool is_special_word(std::string_view text) {
    // YAML 1.1 booleans and nulls (PyYAML), YAML 1.2 core schema booleans and nulls, and the 1.1
    // `=` (value) and `<<` (merge) keys, compared without case.
    static constexpr std::array<std::string_view, 15> k_words = {"y",
                                                                 "n",
                                                                 "yes",
                                                                 "no",
                                                                 "true",
                                                                 "false",
                                                                 "on",
                                                                 "off",
                                                                 "null",
                                                                 "~",
                                                                 "=",
                                                                 "<<",
                                                                 ".inf",
                                                                 ".nan",
                                                                 "-.inf"};
    const std::string lower = to_lower_ascii(text);
    return std::find(k_words.begin(), k_words.end(), lower) != k_words.end();
}

// A mapping key: plain when it is an identifier that YAML 1.2 (GitHub) reads as a string, so
// `on:` stays `on:` as every workflow writes it; double-quoted otherwise.
std::string key_text(std::string_view key) {
    const bool identifier =
        !key.empty()
        && ((key[0] >= 'A' && key[0] <= 'Z') || (key[0] >= 'a' && key[0] <= 'z') || key[0] == '_')
        && std::all_of(key.begin(), key.end(), [](char c) {
               return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                      || c == '_' || c == '-' || c == '.';
           });
    const std::string lower = to_lower_ascii(key);
    const bool yaml12_special = lower == "true" || lower == "false" || lower == "null";
    return identifier && !yaml12_special ? std::string(key) : double_quoted(key);
}

// Whether multi-line `text` can be a literal block (`|`, `|-`) that reads back exactly: printable
// characters only, no tabs, no line that is only spaces or ends with one, not starting with a
// space or a line break, and at most one final newline.
bool literal_ok(std::string_view text) {
    if (text.empty() || text[0] == ' ' || text[0] == '\n'
        || text.find('\n') == std::string_view::npos || text.ends_with("\n\n")) {
        return false;
    }
    for (const std::uint32_t cp : code_points(text)) {
        if (cp != '\n' && !is_printable(cp)) {
            return false;
        }
    }
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        const std::string_view line = text.substr(start, end - start);
        if (!line.empty() && line.back() == ' ') {
            return false;
        }
        start = end + 1;
    }
    return true;
}

void write_scalar(std::string& out, const Value& value, int indent) {
    if (value.type == Value::Type::verbatim) {
        out += value.text;
        out += '\n';
        return;
    }
    if (!literal_ok(value.text)) {
        out += inline_scalar(value.text);
        out += '\n';
        return;
    }
    out += value.text.ends_with('\n') ? "|\n" : "|-\n";
    std::string_view rest = value.text;
    if (rest.ends_with('\n')) {
        rest.remove_suffix(1);
    }
    std::size_t start = 0;
    while (start <= rest.size()) {
        std::size_t end = rest.find('\n', start);
        if (end == std::string_view::npos) {
            end = rest.size();
        }
        const std::string_view line = rest.substr(start, end - start);
        if (!line.empty()) {
            out.append(static_cast<std::size_t>(indent), ' ');
            out += line;
        }
        out += '\n';
        start = end + 1;
    }
}

bool is_empty_collection(const Value& value) {
    return (value.type == Value::Type::sequence && value.items.empty())
           || (value.type == Value::Type::mapping && value.entries.empty());
}

void write_value(std::string& out, const Value& value, int indent);

void write_mapping_entries(std::string& out, const Value& value, int indent, bool first_inline) {
    bool first = true;
    for (const auto& [key, child] : value.entries) {
        if (!(first && first_inline)) {
            out.append(static_cast<std::size_t>(indent), ' ');
        }
        first = false;
        out += key_text(key);
        out += ':';
        if (is_empty_collection(child)) {
            out += child.type == Value::Type::sequence ? " []\n" : " {}\n";
        } else if (child.type == Value::Type::mapping || child.type == Value::Type::sequence) {
            out += '\n';
            write_value(out, child, indent + 2);
        } else {
            out += ' ';
            write_scalar(out, child, indent + 2);
        }
    }
}

// Writes a collection `value` whose lines start at `indent`.
void write_value(std::string& out, const Value& value, int indent) {
    if (value.type == Value::Type::mapping) {
        write_mapping_entries(out, value, indent, false);
        return;
    }
    for (const Value& item : value.items) {
        out.append(static_cast<std::size_t>(indent), ' ');
        out += '-';
        if (is_empty_collection(item)) {
            out += item.type == Value::Type::sequence ? " []\n" : " {}\n";
        } else if (item.type == Value::Type::mapping) {
            out += ' ';
            write_mapping_entries(out, item, indent + 2, true);
        } else if (item.type == Value::Type::sequence) {
            out += '\n';
            write_value(out, item, indent + 2);
        } else {
            out += ' ';
            write_scalar(out, item, indent + 2);
        }
    }
}

} // namespace

Value str(std::string text) {
    return Value{Value::Type::string, std::move(text), {}, {}};
}

Value verbatim(std::string text) {
    return Value{Value::Type::verbatim, std::move(text), {}, {}};
}

Value seq(std::vector<Value> items) {
    return Value{Value::Type::sequence, {}, std::move(items), {}};
}

Value map(std::vector<std::pair<std::string, Value>> entries) {
    return Value{Value::Type::mapping, {}, {}, std::move(entries)};
}

bool is_plain_safe(std::string_view text) {
    if (text.empty() || text.front() == ' ' || text.back() == ' ' || text.back() == ':') {
        return false;
    }
    if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7E; })) {
        return false;
    }
    if (std::string_view("-?:,[]{}#&*!|>'\"%@`").find(text.front()) != std::string_view::npos) {
        return false;
    }
    if (text.find(": ") != std::string_view::npos || text.find(" #") != std::string_view::npos) {
        return false;
    }
    const char first = text.front();
    const char second = text.size() > 1 ? text[1] : '\0';
    const bool numeric = (first >= '0' && first <= '9')
                         || ((first == '.' || first == '+') && second >= '0' && second <= '9');
    return !numeric && !is_special_word(text);
}

std::string double_quoted(std::string_view text) {
    std::string out = "\"";
    std::size_t i = 0;
    for (const std::uint32_t cp : code_points(text)) {
        const std::size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        switch (cp) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\r':
            out += "\\r";
            break;
        default:
            if (is_printable(cp)) {
                out += text.substr(i, n);
            } else if (cp <= 0xFFFF) {
                out += fmt::format("\\u{:04X}", cp);
            } else {
                out += fmt::format("\\U{:08X}", cp);
            }
        }
        i += n;
    }
    return out + "\"";
}

std::string inline_scalar(std::string_view text) {
    return is_plain_safe(text) ? std::string(text) : double_quoted(text);
}

std::string write(const Value& root) {
    std::string out;
    write_value(out, root, 0);
    return out;
}

} // namespace crcr::yaml
