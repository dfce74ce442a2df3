#include "crcr/yaml.hpp"

#include "crcr/memory.hpp"
#include "crcr/utf8.hpp"

#include <fmt/format.h>

#include <yaml.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <memory>
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
    bool reserved_directive = false; // libyaml's error on `%FOO`, which PyYAML ignores
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
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte >= 0x20 && byte < 0x7F) { // printable ASCII: most of any file, taken fast
            ++i;
            ++column;
            continue;
        }
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

// PyYAML skips only spaces between tokens, so a tab anywhere outside a quoted string, a comment
// or a block scalar makes it fail ("found character '\t' that cannot start any token").
std::vector<Finding> check_tabs(std::string_view text) {
    std::vector<Finding> findings;
    if (text.find('\t') == std::string_view::npos) {
        return findings;
    }
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

bool match(const std::regex& re, std::string_view text) {
    return std::regex_match(text.begin(), text.end(), re);
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
Kind resolve_plain(std::string_view text) {
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

// A libyaml event, freed when it goes out of scope.
struct Event {
    yaml_event_t event{};
    Event() = default;
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    ~Event() { yaml_event_delete(&event); }
};

// libyaml's pull parser over `text`, freed when it goes out of scope.
class Parser {
public:
    explicit Parser(std::string_view text) {
        yaml_parser_initialize(&m_parser);
        yaml_parser_set_input_string(
            &m_parser, reinterpret_cast<const unsigned char*>(text.data()), text.size());
    }
    Parser(const Parser&) = delete;
    Parser& operator=(const Parser&) = delete;
    ~Parser() { yaml_parser_delete(&m_parser); }

    // The next event; throws Rejected with libyaml's reason when the text is not YAML.
    void next(Event& out, std::string_view text) {
        yaml_event_delete(&out.event);
        if (yaml_parser_parse(&m_parser, &out.event) == 0) {
            throw syntax_error(text);
        }
    }

private:
    Rejected syntax_error(std::string_view text) const {
        const yaml_mark_t& mark = m_parser.problem_mark;
        const SourceLocation where{
            static_cast<int>(mark.line) + 1, static_cast<int>(mark.column) + 1, 1};
        const std::string problem = m_parser.problem != nullptr ? m_parser.problem : "unknown";
        if (problem == "found unknown directive name") {
            return Rejected{where, "invalid YAML: " + problem, true};
        }
        const std::size_t offset = byte_offset(text, mark);
        if (offset < text.size() && (text[offset] == '@' || text[offset] == '`')) {
            return Rejected{where,
                            fmt::format("'{}' cannot start an unquoted YAML value; quote the "
                                        "value or drop the '{}'",
                                        text[offset],
                                        text[offset])};
        }
        if (m_parser.context == nullptr) {
            return Rejected{where, "invalid YAML: " + problem};
        }
        return Rejected{where,
                        fmt::format("invalid YAML: {} ({} that starts at line {} column {})",
                                    problem,
                                    m_parser.context,
                                    m_parser.context_mark.line + 1,
                                    m_parser.context_mark.column + 1)};
    }

    // The byte offset of `mark` (whose column counts characters) in `text`.
    static std::size_t byte_offset(std::string_view text, const yaml_mark_t& mark) {
        std::size_t pos = 0;
        for (std::size_t line = 0; line < mark.line; ++line) {
            pos = text.find('\n', pos);
            if (pos == std::string_view::npos) {
                return text.size();
            }
            ++pos;
        }
        for (std::size_t column = 0; column < mark.column && pos < text.size(); ++column) {
            do {
                ++pos;
            } while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0U) == 0x80U);
        }
        return pos;
    }

    yaml_parser_t m_parser{};
};

SourceLocation location_at(const yaml_mark_t& mark, int length) {
    return {static_cast<int>(mark.line) + 1, static_cast<int>(mark.column) + 1, length};
}

std::string_view view(const yaml_char_t* text) {
    return text == nullptr ? std::string_view() : reinterpret_cast<const char*>(text);
}

// How much a node stands for once its aliases are expanded: what the budget counts.
struct Size {
    std::size_t nodes = 0;
    std::size_t scalar_bytes = 0;
    std::size_t height = 0; // 0 for a scalar, 1 + the tallest child for a list or mapping
};

} // namespace

class Tree {
public:
    // A value: for a scalar, `a` and `b` are the offset and size of its text in `chars`; for a
    // list or mapping, where its children start in `children` and how many items or entries.
    struct Slot {
        std::uint32_t a = 0;
        std::uint32_t b = 0;
        SourceLocation location;
        Kind kind = Kind::null;
    };

    Node node(std::uint32_t id) const { return {this, id}; }

    Buffer<Slot> slots;
    Buffer<std::uint32_t> children; // a list's items; a mapping's keys and values, alternating
    Buffer<char> chars;             // the text of every scalar, one after another
};

Kind Node::kind() const {
    return m_tree->slots[m_id].kind;
}

std::string_view Node::text() const {
    const Tree::Slot& slot = m_tree->slots[m_id];
    return is_scalar() ? std::string_view(m_tree->chars.data() + slot.a, slot.b)
                       : std::string_view();
}

SourceLocation Node::location() const {
    return m_tree->slots[m_id].location;
}

Items Node::items() const {
    const Tree::Slot& slot = m_tree->slots[m_id];
    if (slot.kind != Kind::sequence) {
        return {};
    }
    return {m_tree, std::span(m_tree->children).subspan(slot.a, slot.b)};
}

Entries Node::entries() const {
    const Tree::Slot& slot = m_tree->slots[m_id];
    if (slot.kind != Kind::mapping) {
        return {};
    }
    return {m_tree, std::span(m_tree->children).subspan(slot.a, 2 * std::size_t{slot.b})};
}

namespace {

// Builds a Tree from libyaml's events without recursion (the nesting lives in `m_stack`, the
// children of the open lists and mappings in `m_scratch` until they close), sharing the node of an
// anchor among its aliases and counting each alias as the size of what it stands for, so that a
// walk of the tree costs at most the budget.
class Loader {
public:
    // `text_size`: the size of the file, which `text` is, or a copy with the same lines.
    Loader(std::string_view text,
           std::size_t text_size,
           Tree& tree,
           std::vector<DuplicateKey>& duplicates)
        : m_text(text), m_size(text_size), m_limits(limits_for(text_size)), m_tree(tree),
          m_duplicates(duplicates) {
        // Room for what a block-style file of this many lines makes, allocated once: pages that
        // are never written cost no memory, while a doubling holds three times the room at once.
        const std::size_t lines =
            static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
        const std::size_t nodes = std::min(2 * lines + 16, m_limits.nodes);
        m_tree.slots.reserve(nodes);
        m_tree.children.reserve(nodes);
        m_tree.chars.reserve(text.size());
    }

    // The document's root; nothing for an empty stream or an empty document.
    std::optional<std::uint32_t> run() {
        Parser parser(m_text);
        Event e;
        int documents = 0;
        for (parser.next(e, m_text); e.event.type != YAML_STREAM_END_EVENT;
             parser.next(e, m_text)) {
            const yaml_event_t& ev = e.event;
            switch (ev.type) {
            case YAML_DOCUMENT_START_EVENT:
                if (++documents > 1) {
                    throw Rejected{
                        location_at(ev.start_mark, 3),
                        "several YAML documents ('---'): the relay's loader expects one"};
                }
                break;
            case YAML_SCALAR_EVENT:
                scalar(ev);
                break;
            case YAML_SEQUENCE_START_EVENT:
            case YAML_MAPPING_START_EVENT:
                start_collection(ev);
                break;
            case YAML_SEQUENCE_END_EVENT:
            case YAML_MAPPING_END_EVENT:
                end_collection();
                break;
            case YAML_ALIAS_EVENT:
                alias(ev);
                break;
            default:
                break;
            }
        }
        return m_root;
    }

private:
    struct Anchor {
        std::uint32_t id = 0;
        bool closed = false; // false while its list or mapping is still open
        Size size;
        SourceLocation where;
    };

    struct Frame {
        std::uint32_t id = 0;
        std::size_t begin = 0; // where its children start in m_scratch
        std::string anchor;
        Size size;
        std::optional<std::uint32_t> key;  // a mapping's key waiting for its value
        bool merge_key = false;            // the waiting key is `<<`
        std::vector<std::uint32_t> merged; // keys and values that `<<` brings, in PyYAML's order
    };

    const Tree::Slot& slot(std::uint32_t id) const { return m_tree.slots[id]; }

    std::uint32_t new_slot(Kind kind, SourceLocation location) {
        m_tree.slots.push_back({0, 0, location, kind});
        return static_cast<std::uint32_t>(m_tree.slots.size() - 1);
    }

    void count(const Size& size, const SourceLocation& where) {
        m_total.nodes += size.nodes;
        m_total.scalar_bytes += size.scalar_bytes;
        if (m_total.nodes > m_limits.nodes) {
            throw Rejected{where,
                           fmt::format("the document has more than {} nodes once its aliases are "
                                       "expanded (crcr's limit for a file of {} bytes: {} plus one "
                                       "per byte); the relay's loader would spend that much time "
                                       "and memory on it",
                                       m_limits.nodes,
                                       m_size,
                                       k_base_nodes)};
        }
        if (m_total.scalar_bytes > m_limits.scalar_bytes) {
            throw Rejected{where,
                           fmt::format("the document's values add up to more than {} bytes once "
                                       "its aliases are expanded (crcr's limit for a file of {} "
                                       "bytes: {} plus one per byte)",
                                       m_limits.scalar_bytes,
                                       m_size,
                                       k_base_scalar_bytes)};
        }
        if (m_stack.size() + size.height > m_limits.depth) {
            throw Rejected{where,
                           fmt::format("YAML nested more than {} levels deep (crcr's limit); "
                                       "flatten it",
                                       m_limits.depth)};
        }
    }

    void define_anchor(const yaml_char_t* name,
                       std::uint32_t id,
                       bool closed,
                       const Size& size,
                       const SourceLocation& where) {
        if (name == nullptr) {
            return;
        }
        const auto [it, inserted] = m_anchors.try_emplace(std::string(view(name)));
        if (!inserted) {
            throw Rejected{where,
                           fmt::format("anchor '&{}' is defined twice (first at line {} column "
                                       "{}); the relay's loader rejects that: rename one",
                                       it->first,
                                       it->second.where.line,
                                       it->second.where.column)};
        }
        it->second = {id, closed, size, where};
    }

    void scalar(const yaml_event_t& ev) {
        const auto& data = ev.data.scalar;
        const std::string_view text(reinterpret_cast<const char*>(data.value), data.length);
        const std::string_view tag = view(data.tag);
        const bool quoted = data.style == YAML_SINGLE_QUOTED_SCALAR_STYLE
                            || data.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        const bool plain = data.style == YAML_PLAIN_SCALAR_STYLE;
        SourceLocation location =
            location_at(ev.start_mark, std::max(1, utf8_length(text) + (quoted ? 2 : 0)));
        if (plain && data.tag == nullptr && data.length == 0) {
            // An empty value: libyaml places it just after the '-' or ':' that introduced it.
            location = {static_cast<int>(ev.start_mark.line) + 1,
                        std::max(1, static_cast<int>(ev.start_mark.column)),
                        1};
        }
        Kind kind = Kind::string;
        if (tag == "!" || (data.tag == nullptr && plain)) {
            kind = resolve_plain(text); // PyYAML resolves `! x` as if untagged
        } else if (data.tag != nullptr) {
            const std::optional<Kind> tagged = kind_for_tag(tag);
            if (!tagged || *tagged == Kind::sequence || *tagged == Kind::mapping) {
                throw unsupported_tag(tag, tagged, "single value", location);
            }
            kind = text.empty() && *tagged != Kind::string ? Kind::null : *tagged;
        }
        const Size size{1, data.length, 0};
        count(size, location);
        const std::uint32_t id = new_slot(kind, location);
        m_tree.slots.back().a = static_cast<std::uint32_t>(m_tree.chars.size());
        m_tree.slots.back().b = static_cast<std::uint32_t>(text.size());
        m_tree.chars.insert(m_tree.chars.end(), text.begin(), text.end());
        const bool merge = plain && data.tag == nullptr && text == "<<";
        define_anchor(data.anchor, id, true, size, location);
        if (m_stack.empty() && plain && data.tag == nullptr && data.length == 0) {
            return; // an empty document: safe_load returns None
        }
        add(id, size, merge);
    }

    void start_collection(const yaml_event_t& ev) {
        const bool sequence = ev.type == YAML_SEQUENCE_START_EVENT;
        const yaml_char_t* tag_text =
            sequence ? ev.data.sequence_start.tag : ev.data.mapping_start.tag;
        const yaml_char_t* anchor =
            sequence ? ev.data.sequence_start.anchor : ev.data.mapping_start.anchor;
        const Kind kind = sequence ? Kind::sequence : Kind::mapping;
        const SourceLocation location = location_at(ev.start_mark, 1);
        const std::string_view tag = view(tag_text);
        if (tag_text != nullptr && tag != "!") {
            const std::optional<Kind> tagged = kind_for_tag(tag);
            if (tagged != kind) {
                throw unsupported_tag(tag, tagged, sequence ? "list" : "mapping", location);
            }
        }
        count({1, 0, 1}, location);
        Frame frame;
        frame.id = new_slot(kind, location);
        frame.begin = m_scratch.size();
        frame.size = {1, 0, 1};
        define_anchor(anchor, frame.id, false, {}, location);
        frame.anchor = std::string(view(anchor));
        m_stack.push_back(std::move(frame));
    }

    void end_collection() {
        Frame frame = std::move(m_stack.back());
        m_stack.pop_back();
        const bool mapping = slot(frame.id).kind == Kind::mapping;
        if (mapping && (!frame.merged.empty() || m_scratch.size() - frame.begin > 2)) {
            resolve_keys(frame);
        }
        Tree::Slot& out = m_tree.slots[frame.id];
        out.a = static_cast<std::uint32_t>(m_tree.children.size());
        const std::size_t count = m_scratch.size() - frame.begin;
        out.b = static_cast<std::uint32_t>(mapping ? count / 2 : count);
        m_tree.children.insert(m_tree.children.end(),
                               m_scratch.begin() + static_cast<std::ptrdiff_t>(frame.begin),
                               m_scratch.end());
        m_scratch.resize(frame.begin);
        if (!frame.anchor.empty()) {
            Anchor& anchor = m_anchors.at(frame.anchor);
            anchor.closed = true;
            anchor.size = frame.size;
        }
        add(frame.id, frame.size, false);
    }

    void alias(const yaml_event_t& ev) {
        const std::string_view name = view(ev.data.alias.anchor);
        const SourceLocation where = location_at(ev.start_mark, utf8_length(name) + 1);
        const auto it = m_anchors.find(std::string(name));
        if (it == m_anchors.end()) {
            throw Rejected{where,
                           fmt::format("alias '*{}' has no anchor '&{}' before it", name, name)};
        }
        if (!it->second.closed) {
            throw Rejected{where,
                           fmt::format("alias '*{}' is inside the list or mapping it names (a "
                                       "structure that contains itself); crcr cannot check it",
                                       name)};
        }
        count(it->second.size, where);
        add(it->second.id, it->second.size, false);
    }

    // Puts a finished node in the list or mapping being built, or makes it the root.
    void add(std::uint32_t id, const Size& size, bool merge) {
        if (m_stack.empty()) {
            m_root = id;
            return;
        }
        Frame& parent = m_stack.back();
        parent.size.nodes += size.nodes;
        parent.size.scalar_bytes += size.scalar_bytes;
        parent.size.height = std::max(parent.size.height, size.height + 1);
        if (slot(parent.id).kind == Kind::sequence) {
            m_scratch.push_back(id);
            return;
        }
        if (!parent.key) {
            if (!m_tree.node(id).is_scalar()) {
                throw Rejected{slot(id).location,
                               "a mapping key that is a list or a mapping: the relay's YAML loader "
                               "rejects it (unhashable key)"};
            }
            parent.key = id;
            parent.merge_key = merge;
            return;
        }
        if (parent.merge_key) {
            merge_into(id, parent.merged);
        } else {
            m_scratch.push_back(*parent.key);
            m_scratch.push_back(id);
        }
        parent.key.reset();
    }

    void merge_into(std::uint32_t source, std::vector<std::uint32_t>& merged) const {
        const auto append = [&](std::uint32_t mapping) {
            const Tree::Slot& s = slot(mapping);
            const auto first = m_tree.children.begin() + s.a;
            merged.insert(merged.end(), first, first + 2 * static_cast<std::ptrdiff_t>(s.b));
        };
        const Tree::Slot& s = slot(source);
        if (s.kind == Kind::mapping) {
            append(source);
            return;
        }
        if (s.kind == Kind::sequence) {
            // PyYAML applies a list of merged mappings so that earlier ones win.
            for (std::uint32_t i = s.b; i-- > 0;) {
                const std::uint32_t item = m_tree.children[s.a + i];
                if (slot(item).kind != Kind::mapping) {
                    throw Rejected{slot(item).location,
                                   "a merge key ('<<') takes a mapping or a list of mappings"};
                }
                append(item);
            }
            return;
        }
        throw Rejected{s.location, "a merge key ('<<') takes a mapping or a list of mappings"};
    }

    // Resolves the keys of the mapping `frame` closes as a Python dict does: merged entries first,
    // then the explicit ones; a key seen again keeps its first place and takes the later value.
    void resolve_keys(Frame& frame) {
        std::vector<std::uint32_t> all = std::move(frame.merged);
        const std::size_t merged_count = all.size() / 2;
        all.insert(all.end(),
                   m_scratch.begin() + static_cast<std::ptrdiff_t>(frame.begin),
                   m_scratch.end());
        m_scratch.resize(frame.begin);
        std::unordered_map<std::string, std::size_t> index; // canonical key -> entry kept
        std::vector<bool> is_explicit;
        std::optional<std::string> where; // the mapping's path, made once for all its duplicates
        for (std::size_t i = 0; i < all.size() / 2; ++i) {
            const std::uint32_t key = all[2 * i];
            const std::uint32_t value = all[2 * i + 1];
            const bool explicit_key = i >= merged_count;
            const std::size_t kept_count = (m_scratch.size() - frame.begin) / 2;
            const auto [it, inserted] = index.emplace(canonical_key(m_tree.node(key)), kept_count);
            if (inserted) {
                m_scratch.push_back(key);
                m_scratch.push_back(value);
                is_explicit.push_back(explicit_key);
                continue;
            }
            // A key written twice is a duplicate; a key overriding a merged one is what `<<` is
            // for.
            const std::size_t kept = frame.begin + 2 * it->second;
            if (explicit_key && is_explicit[it->second]) {
                if (!where) {
                    where = path(frame.begin);
                }
                m_duplicates.push_back({*where,
                                        m_tree.node(m_scratch[kept]),
                                        m_tree.node(key),
                                        m_tree.node(m_scratch[kept + 1])});
            }
            m_scratch[kept + 1] = value;
            is_explicit[it->second] = is_explicit[it->second] || explicit_key;
        }
    }

    // The dotted path of the node being built just above the stack ("jobs.ci", "L1[0]"): the
    // mapping that has just been popped, whose children started at `popped_begin` in m_scratch. At
    // most k_max_path bytes of it, then "...": a key may be as long as the file, and a path is
    // kept with each duplicate found.
    std::string path(std::size_t popped_begin) const {
        constexpr std::size_t k_max_path = 200;
        std::string out;
        for (std::size_t i = 0; i < m_stack.size() && out.size() <= k_max_path; ++i) {
            const Frame& frame = m_stack[i];
            const std::size_t end = i + 1 < m_stack.size() ? m_stack[i + 1].begin : popped_begin;
            if (slot(frame.id).kind == Kind::sequence) {
                out += fmt::format("[{}]", end - frame.begin);
            } else if (frame.key) {
                const Node key = m_tree.node(*frame.key);
                out += out.empty() ? "" : ".";
                out += key.kind() == Kind::string ? key.text().substr(0, k_max_path + 1)
                                                  : python_str(key);
            }
        }
        if (out.size() > k_max_path) {
            std::size_t end = k_max_path;
            while (end > 0 && (static_cast<unsigned char>(out[end]) & 0xC0U) == 0x80U) {
                --end; // not inside a UTF-8 character
            }
            out.resize(end);
            out += "...";
        }
        return out;
    }

    static std::string canonical_key(const Node& key) {
        switch (key.kind()) {
        case Kind::null:
            return "n";
        case Kind::boolean: // in Python, True == 1 and False == 0 as dict keys
            return python_str(key) == "True" ? "i:1" : "i:0";
        case Kind::integer:
            return "i:" + python_str(key);
        case Kind::string:
            return fmt::format("s:{}", key.text());
        default:
            return fmt::format("o:{}", key.text());
        }
    }

    static Rejected unsupported_tag(std::string_view tag,
                                    std::optional<Kind> kind,
                                    std::string_view what,
                                    const SourceLocation& where) {
        if (kind) {
            return Rejected{where,
                            fmt::format("tag '{}' on a {}: the relay's YAML loader cannot "
                                        "construct that; remove the tag",
                                        tag,
                                        what)};
        }
        return Rejected{where,
                        fmt::format("tag '{}' is not one the relay's YAML loader (safe_load) "
                                    "can construct; remove it",
                                    tag)};
    }

    std::string_view m_text;
    std::size_t m_size;
    Limits m_limits;
    Tree& m_tree;
    std::vector<DuplicateKey>& m_duplicates;
    std::vector<Frame> m_stack;
    std::vector<std::uint32_t> m_scratch; // the children of the open lists and mappings
    std::unordered_map<std::string, Anchor> m_anchors;
    Size m_total;
    std::optional<std::uint32_t> m_root;
};

// How many unknown directives `load` skips before it gives up.
constexpr int k_max_reserved_directives = 16;

// `text` with its line number `line` (1-based) replaced by `replacement`.
std::string replace_line(std::string_view text, int line, std::string_view replacement) {
    std::size_t start = 0;
    for (int i = 1; i < line && start != std::string_view::npos; ++i) {
        start = text.find('\n', start);
        start = start == std::string_view::npos ? start : start + 1;
    }
    if (start == std::string_view::npos) {
        return std::string(text);
    }
    const std::size_t end = std::min(text.find('\n', start), text.size());
    return fmt::format("{}{}{}", text.substr(0, start), replacement, text.substr(end));
}

} // namespace

Limits limits_for(std::size_t text_size) {
    return {k_max_depth, k_base_nodes + text_size, k_base_scalar_bytes + text_size};
}

Document load(std::string_view text) {
    Document doc;
    if (text.size() > k_max_text) {
        doc.errors.push_back({Severity::error,
                              "yaml-syntax",
                              fmt::format("the file is {} bytes; crcr reads YAML files of at most "
                                          "{} bytes",
                                          text.size(),
                                          k_max_text),
                              {1, 1, 0}});
        return doc;
    }
    if (std::optional<Finding> bad = check_encoding(text)) {
        doc.errors.push_back(std::move(*bad));
        return doc;
    }
    doc.errors = check_tabs(text);
    if (!doc.errors.empty()) {
        return doc;
    }
    // PyYAML ignores a directive it does not know (`%FOO bar`); libyaml rejects it. Each one is
    // replaced by a %TAG directive nobody uses, on the same line, and the text parsed again.
    std::string patched;
    std::string_view source = text;
    for (int directives = 0;; ++directives) {
        try {
            auto tree = std::make_shared<Tree>();
            const std::optional<std::uint32_t> root =
                Loader(source, text.size(), *tree, doc.duplicates).run();
            if (root) {
                doc.root = tree->node(*root);
            }
            doc.storage = std::move(tree);
            return doc;
        } catch (const Rejected& r) {
            doc.duplicates.clear();
            if (!r.reserved_directive || directives == k_max_reserved_directives) {
                doc.errors.push_back({Severity::error, "yaml-syntax", r.message, r.location});
                return doc;
            }
            patched =
                replace_line(source,
                             r.location.line,
                             fmt::format("%TAG !crcr-reserved-{}! tag:crcr,reserved:", directives));
            source = patched;
        }
    }
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
    const std::string_view text = node.text();
    switch (node.kind()) {
    case Kind::null:
        return "None";
    case Kind::boolean:
        return is_true_word(text) ? "True" : "False";
    case Kind::integer:
        return python_int(std::string(text)).value_or(std::string(text));
    default:
        return std::string(text);
    }
}

bool is_falsy(const Node& node) {
    const std::string_view text = node.text();
    switch (node.kind()) {
    case Kind::null:
        return true;
    case Kind::boolean:
        return !is_true_word(text);
    case Kind::integer:
        return python_str(node) == "0";
    case Kind::floating:
        return text.find_first_of("123456789") == std::string_view::npos
               && text.find_first_of("nN") == std::string_view::npos;
    case Kind::string:
    case Kind::binary:
        return text.empty();
    case Kind::sequence:
        return node.items().empty();
    case Kind::mapping:
        return node.entries().empty();
    case Kind::timestamp:
        return false;
    }
    return false;
}

} // namespace crcr::yaml
