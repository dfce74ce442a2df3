#include "crcr/yaml.hpp"

#include "crcr/utf8.hpp"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <regex>
#include <unordered_map>

namespace crcr::yaml {

namespace {

constexpr std::string_view k_core_tag = "tag:yaml.org,2002:";

// Thrown inside the loader for what PyYAML would reject while constructing; turned into a finding.
struct Rejected {
    SourceLocation location;
    std::string message;
};

int utf8_length(std::string_view text) {
    return static_cast<int>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
    }));
}

// PyYAML's reader accepts only printable characters: tab, line breaks, printable ASCII, NEL, and
// the printable Unicode ranges. Returns the first offence, decoding UTF-8 strictly.
std::optional<Finding> check_encoding(std::string_view text) {
    int line = 1;
    int column = 1;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::optional<Utf8Char> c = decode_utf8(text, i);
        const bool valid = c.has_value();
        const auto lead = static_cast<unsigned char>(text[i]);
        const std::uint32_t cp = valid ? c->code_point : 0;
        const std::size_t n = valid ? c->length : 0;
        if (!valid) {
            return Finding{
                Severity::error,
                "invalid-utf8",
                fmt::format("invalid UTF-8 byte 0x{:02x}: the file must be UTF-8 text", lead),
                {line, column, 1}};
        }
        const bool printable = cp == 0x09 || cp == 0x0A || cp == 0x0D || (cp >= 0x20 && cp <= 0x7E)
                               || cp == 0x85 || (cp >= 0xA0 && cp <= 0xD7FF)
                               || (cp >= 0xE000 && cp <= 0xFFFD) || cp >= 0x10000;
        if (!printable) {
            return Finding{Severity::error,
                           "non-printable-character",
                           fmt::format("non-printable character U+{:04X}: YAML does not allow it; "
                                       "is this a binary file?",
                                       cp),
                           {line, column, 1}};
        }
        const bool lone_cr = cp == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n');
        if (cp == 0x85 || cp == 0x2028 || cp == 0x2029 || lone_cr) {
            return Finding{
                Severity::error,
                "hidden-line-break",
                fmt::format("{} here: YAML (and so the relay) starts a new line at it, but "
                            "editors and diffs show the text after it on this line; "
                            "use a plain newline",
                            lone_cr ? std::string("a lone carriage return (CR)")
                                    : fmt::format("line break character U+{:04X}", cp)),
                {line, column, 1}};
        }
        if (cp == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
        i += n;
    }
    return std::nullopt;
}

bool is_block_scalar_header(std::string_view content) {
    // `key: |`, `- >-`, `|2+`: the last token is a block scalar indicator.
    while (!content.empty() && content.back() == ' ') {
        content.remove_suffix(1);
    }
    const std::size_t start = content.find_last_of(' ');
    const std::string_view token =
        start == std::string_view::npos ? content : content.substr(start + 1);
    if (token.empty() || (token[0] != '|' && token[0] != '>')) {
        return false;
    }
    return std::all_of(token.begin() + 1, token.end(), [](char c) {
        return c == '-' || c == '+' || (c >= '0' && c <= '9');
    });
}

// Whether a value starts after `before` (the line up to here): at the start of the line, or
// after "- ", ": " or "? ".
bool starts_value(std::string_view before) {
    const std::size_t last = before.find_last_not_of(' ');
    if (last == std::string_view::npos) {
        return true;
    }
    return last + 1 < before.size()
           && (before[last] == '-' || before[last] == ':' || before[last] == '?');
}

// PyYAML skips only spaces between tokens, so a tab anywhere outside a quoted string, a comment
// or a block scalar makes it fail ("found character '\t' that cannot start any token").
std::vector<Finding> check_tabs(std::string_view text) {
    std::vector<Finding> findings;
    char quote = 0;
    int flow_depth = 0;
    std::optional<int> block_indent;
    int line_no = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        const std::string_view line = text.substr(pos, end - pos);
        ++line_no;
        pos = end + 1;
        const std::size_t first = line.find_first_not_of(" \t\r");
        const int indent = static_cast<int>(line.find_first_not_of(' '));
        if (block_indent) {
            if (first == std::string_view::npos || indent > *block_indent) {
                continue;
            }
            block_indent.reset();
        }
        std::size_t content_end = line.size();
        int column = 0;
        for (std::size_t i = 0; i < line.size(); ++i) {
            const char c = line[i];
            if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) {
                ++column;
            }
            if (quote != 0) {
                if (quote == '"' && c == '\\') {
                    ++i;
                } else if (c == quote) {
                    if (quote == '\'' && i + 1 < line.size() && line[i + 1] == '\'') {
                        ++i;
                    } else {
                        quote = 0;
                    }
                }
                continue;
            }
            const char before = i == 0 ? ' ' : line[i - 1];
            if (c == '#' && (before == ' ' || before == '\t' || i == 0)) {
                content_end = i;
                break;
            }
            const bool token_start =
                before == ' ' || before == '[' || before == '{' || before == ',' || i == 0;
            if ((c == '"' || c == '\'') && token_start) {
                quote = c;
            } else if ((c == '[' || c == '{') && token_start) {
                ++flow_depth;
            } else if ((c == ']' || c == '}') && flow_depth > 0) {
                --flow_depth;
            } else if (c == ',' && flow_depth == 0 && starts_value(line.substr(0, i))) {
                // yaml-cpp loops forever on this (jbeder/yaml-cpp#1040); PyYAML rejects it.
                findings.push_back({Severity::error,
                                    "yaml-syntax",
                                    "invalid YAML: ',' cannot start a value outside [ ] or { }; "
                                    "remove it or quote the value",
                                    {line_no, column, 1}});
            } else if (c == '\t') {
                findings.push_back({Severity::error,
                                    "yaml-tab",
                                    "tab character outside a quoted string: YAML (and the relay's "
                                    "loader) accepts only spaces for indentation and separation",
                                    {line_no, column, 1}});
            }
        }
        if (quote == 0 && is_block_scalar_header(line.substr(0, content_end))) {
            block_indent = indent < 0 ? 0 : indent;
        }
    }
    return findings;
}

bool match(const std::regex& re, const std::string& text) {
    return std::regex_match(text, re);
}

// The implicit resolution of a long scalar that starts like a number, without std::regex (whose
// recursive matcher overflows the stack on long input). Long values can only be decimal, octal,
// hex or binary ints, or floats with a dot; sexagesimals and timestamps are short.
Kind resolve_long(std::string_view text) {
    std::string_view rest = text;
    if (rest.front() == '-' || rest.front() == '+') {
        rest.remove_prefix(1);
    }
    const auto all_of = [](std::string_view s, std::string_view set) {
        return !s.empty() && s.find_first_not_of(set) == std::string_view::npos;
    };
    if (rest.starts_with("0x")) {
        return all_of(rest.substr(2), "0123456789abcdefABCDEF_") ? Kind::integer : Kind::string;
    }
    if (rest.starts_with("0b")) {
        return all_of(rest.substr(2), "01_") ? Kind::integer : Kind::string;
    }
    if (rest.starts_with('0') && all_of(rest, "01234567_")) {
        return Kind::integer;
    }
    if (!rest.empty() && rest.front() >= '1' && rest.front() <= '9'
        && all_of(rest, "0123456789_")) {
        return Kind::integer;
    }
    const std::size_t dot = rest.find('.');
    if (dot != std::string_view::npos && dot > 0 && all_of(rest.substr(0, dot), "0123456789_")) {
        std::string_view fraction = rest.substr(dot + 1);
        const std::size_t e = fraction.find_first_of("eE");
        if (e != std::string_view::npos) {
            const std::string_view exponent = fraction.substr(e + 1);
            if (exponent.size() < 2 || (exponent[0] != '-' && exponent[0] != '+')
                || !all_of(exponent.substr(1), "0123456789")) {
                return Kind::string;
            }
            fraction = fraction.substr(0, e);
        }
        return fraction.empty() || all_of(fraction, "0123456789_.") ? Kind::floating : Kind::string;
    }
    return Kind::string;
}

// YAML 1.1 implicit resolution as PyYAML's Resolver does it, in its order (bool, float, int, merge,
// null, timestamp, value), only ever for plain scalars.
// PyYAML's implicit-resolver patterns, compiled on first use: most files have no scalar that
// starts like a number, and compiling std::regex costs more than parsing a small allowlist.
const std::regex& float_pattern() {
    static const std::regex k_float(
        R"([-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|)"
        R"([-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))");
    return k_float;
}

const std::regex& int_pattern() {
    static const std::regex k_int(R"([-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|)"
                                  R"([-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)");
    return k_int;
}

const std::regex& timestamp_pattern() {
    static const std::regex k_timestamp(
        R"([0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|)"
        R"([0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9])"
        R"((?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)");
    return k_timestamp;
}

// YAML 1.1 implicit resolution as PyYAML's Resolver does it, in its order (bool, float, int, merge,
// null, timestamp, value), only ever for plain scalars.
Kind resolve_plain(const std::string& text) {
    static const std::array<std::string_view, 18> k_bools = {"yes",
                                                             "Yes",
                                                             "YES",
                                                             "no",
                                                             "No",
                                                             "NO",
                                                             "true",
                                                             "True",
                                                             "TRUE",
                                                             "false",
                                                             "False",
                                                             "FALSE",
                                                             "on",
                                                             "On",
                                                             "ON",
                                                             "off",
                                                             "Off",
                                                             "OFF"};
    if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
        return Kind::null;
    }
    if (std::find(k_bools.begin(), k_bools.end(), text) != k_bools.end()) {
        return Kind::boolean;
    }
    const char c = text[0];
    const bool numeric_start = (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.';
    if (numeric_start && text.size() > 64) {
        return resolve_long(text);
    }
    if (numeric_start && match(float_pattern(), text)) {
        return Kind::floating;
    }
    if (numeric_start && match(int_pattern(), text)) {
        return Kind::integer;
    }
    if (c >= '0' && c <= '9' && match(timestamp_pattern(), text)) {
        return Kind::timestamp;
    }
    return Kind::string;
}

std::optional<Kind> kind_for_tag(std::string_view tag) {
    if (!tag.starts_with(k_core_tag)) {
        return std::nullopt;
    }
    tag.remove_prefix(k_core_tag.size());
    static const std::array<std::pair<std::string_view, Kind>, 11> k_tags = {{
        {"str", Kind::string},
        {"int", Kind::integer},
        {"float", Kind::floating},
        {"bool", Kind::boolean},
        {"null", Kind::null},
        {"timestamp", Kind::timestamp},
        {"binary", Kind::binary},
        {"seq", Kind::sequence},
        {"omap", Kind::sequence},
        {"pairs", Kind::sequence},
        {"map", Kind::mapping},
    }};
    for (const auto& [name, kind] : k_tags) {
        if (tag == name) {
            return kind;
        }
    }
    if (tag == "set") {
        return Kind::mapping;
    }
    return std::nullopt;
}

SourceLocation location_of(const YAML::Node& node, int length) {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) {
        return {};
    }
    return {mark.line + 1, mark.column + 1, length};
}

// yaml-cpp places an empty (implicit null) value at the next token, which may be lines further
// down; PyYAML users expect the '-' or ':' that introduced it. Walk back over white space to it.
SourceLocation implicit_null_location(std::string_view text, const YAML::Mark& mark) {
    if (mark.is_null() || mark.pos < 0 || static_cast<std::size_t>(mark.pos) > text.size()) {
        return {};
    }
    auto pos = static_cast<std::size_t>(mark.pos);
    int line = mark.line + 1;
    while (pos > 0 && std::string_view(" \t\r\n").find(text[pos - 1]) != std::string_view::npos) {
        --pos;
        line -= text[pos] == '\n' ? 1 : 0;
    }
    if (pos == 0) {
        return {mark.line + 1, mark.column + 1, 1};
    }
    --pos; // the indicator itself
    const std::size_t newline = text.rfind('\n', pos);
    const std::size_t line_start = newline == std::string_view::npos ? 0 : newline + 1;
    return {line, utf8_length(text.substr(line_start, pos - line_start)) + 1, 1};
}

class Loader {
public:
    Loader(std::string_view text, std::size_t node_budget, std::vector<DuplicateKey>& duplicates)
        : m_text(text), m_budget(node_budget), m_duplicates(duplicates) {}

    NodePtr convert(const YAML::Node& in, const std::string& path) {
        if (++m_count > m_budget) {
            throw Rejected{location_of(in, 0),
                           fmt::format("aliases expand the document beyond {} nodes; the relay's "
                                       "loader would spend that much time and memory on it",
                                       m_budget)};
        }
        auto out = std::make_shared<Node>();
        const std::string& tag = in.Tag();
        if (in.IsSequence() || in.IsMap()) {
            const std::optional<Kind> tagged = kind_for_tag(tag);
            if (!tag.empty() && tag != "?" && tag != "!" && !tagged) {
                throw unsupported_tag(in, tag);
            }
            if (tagged && *tagged != Kind::sequence && *tagged != Kind::mapping) {
                throw Rejected{location_of(in, 1),
                               fmt::format("tag '{}' on a {}: the relay's YAML loader expects a "
                                           "single value there; remove the tag",
                                           tag,
                                           in.IsSequence() ? "list" : "mapping")};
            }
            out->location = location_of(in, 1);
            if (in.IsSequence()) {
                out->kind = Kind::sequence;
                out->items.reserve(in.size());
                std::size_t index = 0;
                for (const YAML::Node& item : in) {
                    out->items.push_back(convert(item, fmt::format("{}[{}]", path, index++)));
                }
            } else {
                out->kind = Kind::mapping;
                build_mapping(in, path, *out);
            }
            return out;
        }
        const bool is_null = in.IsNull();
        out->text = is_null ? std::string() : in.Scalar();
        const bool quoted = tag == "!";
        out->location = location_of(in, std::max(1, utf8_length(out->text) + (quoted ? 2 : 0)));
        if (is_null && tag.empty() && !explicit_null(in.Mark())) {
            out->kind = Kind::null;
            out->location = implicit_null_location(m_text, in.Mark());
        } else if (tag == "?" || (is_null && tag.empty())) {
            out->kind = is_null ? Kind::null : resolve_plain(out->text);
        } else if (quoted) {
            check_closed_quote(in.Mark());
            out->kind = Kind::string;
        } else if (const std::optional<Kind> kind = kind_for_tag(tag); kind && !is_null) {
            out->kind = *kind;
        } else if (kind && *kind == Kind::string) {
            out->kind = Kind::string; // `!!str` with nothing after it is ""
        } else if (kind) {
            out->kind = Kind::null;
        } else {
            throw unsupported_tag(in, tag);
        }
        return out;
    }

private:
    // Whether a null node was written (`~`, `null`) rather than left empty.
    bool explicit_null(const YAML::Mark& mark) const {
        if (mark.pos < 0 || static_cast<std::size_t>(mark.pos) >= m_text.size()) {
            return false;
        }
        const std::string_view rest = m_text.substr(static_cast<std::size_t>(mark.pos));
        return rest.starts_with("~") || rest.starts_with("null") || rest.starts_with("Null")
               || rest.starts_with("NULL");
    }

    // yaml-cpp takes a quoted string that runs to the end of the file as if it were closed;
    // PyYAML rejects it ("found unexpected end of stream").
    void check_closed_quote(const YAML::Mark& mark) const {
        if (mark.pos < 0 || static_cast<std::size_t>(mark.pos) >= m_text.size()) {
            return;
        }
        const auto start = static_cast<std::size_t>(mark.pos);
        const char quote = m_text[start];
        if (quote != '"' && quote != '\'') {
            return;
        }
        for (std::size_t i = start + 1; i < m_text.size(); ++i) {
            if (quote == '"' && m_text[i] == '\\') {
                ++i;
            } else if (m_text[i] == quote) {
                if (quote == '\'' && i + 1 < m_text.size() && m_text[i + 1] == '\'') {
                    ++i;
                    continue;
                }
                return;
            }
        }
        throw Rejected{{mark.line + 1, mark.column + 1, 1},
                       fmt::format("the string opened with {} here is never closed", quote)};
    }

    static Rejected unsupported_tag(const YAML::Node& node, const std::string& tag) {
        return Rejected{location_of(node, 1),
                        fmt::format("tag '{}' is not one the relay's YAML loader (safe_load) "
                                    "can construct; remove it",
                                    tag)};
    }

    static std::string canonical_key(const Node& key) {
        switch (key.kind) {
        case Kind::null:
            return "n";
        case Kind::boolean: // in Python, True == 1 and False == 0 as dict keys
            return python_str(key) == "True" ? "i:1" : "i:0";
        case Kind::integer:
            return "i:" + python_str(key);
        case Kind::string:
            return "s:" + key.text;
        default:
            return "o:" + key.text;
        }
    }

    void merge_into(const YAML::Node& value, const std::string& path, std::vector<Entry>& merged) {
        const NodePtr source = convert(value, path);
        if (source->kind == Kind::mapping) {
            merged.insert(merged.end(), source->entries.begin(), source->entries.end());
            return;
        }
        if (source->kind == Kind::sequence) {
            // PyYAML applies a list of merged mappings so that earlier ones win.
            for (auto it = source->items.rbegin(); it != source->items.rend(); ++it) {
                if ((*it)->kind != Kind::mapping) {
                    throw Rejected{(*it)->location,
                                   "a merge key ('<<') takes a mapping or a list of mappings"};
                }
                merged.insert(merged.end(), (*it)->entries.begin(), (*it)->entries.end());
            }
            return;
        }
        throw Rejected{source->location,
                       "a merge key ('<<') takes a mapping or a list of mappings"};
    }

    void build_mapping(const YAML::Node& in, const std::string& path, Node& out) {
        std::vector<Entry> merged;
        std::vector<Entry> explicit_entries;
        for (const auto& pair : in) {
            const YAML::Node& key_node = pair.first;
            if (key_node.IsScalar() && key_node.Tag() == "?" && key_node.Scalar() == "<<") {
                merge_into(pair.second, path, merged);
                continue;
            }
            NodePtr key = convert(key_node, path);
            if (!key->is_scalar()) {
                throw Rejected{key->location,
                               "a mapping key that is a list or a mapping: the relay's YAML loader "
                               "rejects it (unhashable key)"};
            }
            const std::string child_path =
                path.empty() ? python_str(*key) : fmt::format("{}.{}", path, python_str(*key));
            explicit_entries.push_back({std::move(key), convert(pair.second, child_path)});
        }
        std::unordered_map<std::string, std::size_t> index;
        std::vector<bool> is_explicit;
        const std::size_t merged_count = merged.size();
        merged.insert(merged.end(), explicit_entries.begin(), explicit_entries.end());
        out.entries.reserve(merged.size());
        for (std::size_t i = 0; i < merged.size(); ++i) {
            Entry& entry = merged[i];
            const bool explicit_key = i >= merged_count;
            const auto [it, inserted] =
                index.emplace(canonical_key(*entry.key), out.entries.size());
            if (inserted) {
                out.entries.push_back(std::move(entry));
                is_explicit.push_back(explicit_key);
                continue;
            }
            // A key written twice is a duplicate; a key overriding a merged one is what `<<` is
            // for.
            Entry& kept = out.entries[it->second];
            if (explicit_key && is_explicit[it->second]) {
                m_duplicates.push_back({path, kept.key, entry.key, kept.value});
            }
            kept.value = std::move(entry.value);
            is_explicit[it->second] = is_explicit[it->second] || explicit_key;
        }
    }

    std::string_view m_text;
    std::size_t m_budget;
    std::size_t m_count = 0;
    std::vector<DuplicateKey>& m_duplicates;
};

} // namespace

Document load(std::string_view text) {
    Document doc;
    if (std::optional<Finding> bad = check_encoding(text)) {
        doc.errors.push_back(std::move(*bad));
        return doc;
    }
    doc.errors = check_tabs(text);
    if (!doc.errors.empty()) {
        return doc;
    }
    std::vector<YAML::Node> documents;
    try {
        documents = YAML::LoadAll(std::string(text));
    } catch (const YAML::DeepRecursion& e) {
        doc.errors.push_back(
            {Severity::error,
             "yaml-syntax",
             fmt::format("YAML nested more than {} levels deep; flatten it", e.depth()),
             {e.mark.line + 1, e.mark.column + 1, 1}});
        return doc;
    } catch (const YAML::Exception& e) {
        SourceLocation where{e.mark.line + 1, e.mark.column + 1, 1};
        std::string message = e.msg;
        const std::size_t offset =
            e.mark.pos >= 0 ? static_cast<std::size_t>(e.mark.pos) : text.size();
        if (offset < text.size() && (text[offset] == '@' || text[offset] == '`')) {
            message = fmt::format("'{}' cannot start an unquoted YAML value; quote the value or "
                                  "drop the '{}'",
                                  text[offset],
                                  text[offset]);
        }
        doc.errors.push_back({Severity::error, "yaml-syntax", "invalid YAML: " + message, where});
        return doc;
    }
    if (documents.size() > 1) {
        doc.errors.push_back({Severity::error,
                              "yaml-syntax",
                              "several YAML documents ('---'): the relay's loader expects one",
                              location_of(documents[1], 1)});
        return doc;
    }
    if (documents.empty() || (documents[0].IsNull() && documents[0].Tag().empty())) {
        return doc;
    }
    try {
        Loader loader(text, text.size() + 10'000, doc.duplicates);
        doc.root = loader.convert(documents[0], "");
    } catch (const Rejected& r) {
        doc.errors.push_back({Severity::error, "yaml-syntax", r.message, r.location});
        doc.duplicates.clear();
    }
    return doc;
}

std::string_view python_type(Kind kind) {
    switch (kind) {
    case Kind::null:
        return "NoneType";
    case Kind::boolean:
        return "bool";
    case Kind::integer:
        return "int";
    case Kind::floating:
        return "float";
    case Kind::timestamp:
        return "datetime";
    case Kind::binary:
        return "bytes";
    case Kind::string:
        return "str";
    case Kind::sequence:
        return "list";
    case Kind::mapping:
        return "dict";
    }
    return "object";
}

namespace {

// PyYAML's construct_yaml_int, for values that fit in 64 bits.
std::optional<std::string> python_int(std::string value) {
    value.erase(std::remove(value.begin(), value.end(), '_'), value.end());
    bool negative = false;
    if (!value.empty() && (value[0] == '-' || value[0] == '+')) {
        negative = value[0] == '-';
        value.erase(0, 1);
    }
    std::uint64_t result = 0;
    // Adds `digits` in `base` to `result`; false on overflow (Python ints never overflow, so the
    // caller falls back to the text as written).
    const auto accumulate = [&result](std::string_view digits, unsigned base) {
        for (const char c : digits) {
            const unsigned digit = c <= '9' ? static_cast<unsigned>(c - '0')
                                            : static_cast<unsigned>((c | 0x20) - 'a' + 10);
            if (__builtin_mul_overflow(result, base, &result)
                || __builtin_add_overflow(result, digit, &result)) {
                return false;
            }
        }
        return true;
    };
    bool ok = true;
    if (value.starts_with("0b")) {
        ok = accumulate(std::string_view(value).substr(2), 2);
    } else if (value.starts_with("0x")) {
        ok = accumulate(std::string_view(value).substr(2), 16);
    } else if (value.find(':') != std::string::npos) {
        // Sexagesimal: 1:30 is 90.
        std::size_t start = 0;
        while (ok) {
            const std::size_t colon = value.find(':', start);
            std::uint64_t high = 0;
            ok = !__builtin_mul_overflow(result, 60U, &high);
            result = 0;
            ok = ok && accumulate(std::string_view(value).substr(start, colon - start), 10)
                 && !__builtin_add_overflow(result, high, &result);
            if (colon == std::string::npos) {
                break;
            }
            start = colon + 1;
        }
    } else if (value.size() > 1 && value[0] == '0') {
        ok = accumulate(std::string_view(value).substr(1), 8);
    } else {
        ok = accumulate(value, 10);
    }
    if (!ok) {
        return std::nullopt;
    }
    std::string digits;
    do {
        digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(result % 10)));
        result /= 10;
    } while (result != 0);
    return (negative && digits != "0" ? "-" : "") + digits;
}

bool is_true_word(std::string_view text) {
    static const std::array<std::string_view, 9> k_true = {
        "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
    return std::find(k_true.begin(), k_true.end(), text) != k_true.end();
}

} // namespace

std::string python_str(const Node& node) {
    switch (node.kind) {
    case Kind::null:
        return "None";
    case Kind::boolean:
        return is_true_word(node.text) ? "True" : "False";
    case Kind::integer:
        return python_int(node.text).value_or(node.text);
    default:
        return node.text;
    }
}

bool is_falsy(const Node& node) {
    switch (node.kind) {
    case Kind::null:
        return true;
    case Kind::boolean:
        return !is_true_word(node.text);
    case Kind::integer:
        return python_str(node) == "0";
    case Kind::floating:
        return node.text.find_first_of("123456789") == std::string::npos
               && node.text.find_first_of("nN") == std::string::npos;
    case Kind::string:
    case Kind::binary:
        return node.text.empty();
    case Kind::sequence:
        return node.items.empty();
    case Kind::mapping:
        return node.entries.empty();
    case Kind::timestamp:
        return false;
    }
    return false;
}

} // namespace crcr::yaml
