#pragma once

// A YAML loader that yields what PyYAML's `yaml.safe_load` yields, with source locations. The
// relay reads its allowlist with `safe_load`, so crcr must see the same values: YAML 1.1 implicit
// types (`yes` is a bool, `010` an int), merge keys (`<<`), aliases, and duplicate mapping keys
// resolved as Python does (the last value wins, at the first key's place). What PyYAML rejects
// (tabs where a token starts, `@` starting a scalar, several documents, unknown tags, invalid
// UTF-8, non-printable characters) is reported as an error finding instead of a document.

#include "crcr/finding.hpp"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crcr::yaml {

// The Python type a YAML node becomes under `safe_load`.
enum class Kind : std::uint8_t {
    null,
    boolean,
    integer,
    floating,
    timestamp,
    binary,
    string,
    sequence,
    mapping
};

// Where a loaded document's values live: one array of 24-byte slots, one of child indices and one
// of scalar text, for the whole document (a tree of separately allocated nodes took eight times
// the file's size at 100,000 allowlist entries). Defined in yaml.cpp.
class Tree;

class Items;
class Entries;

// One value of a loaded document: a handle into its Document's storage, valid while a copy of that
// Document lives. A default-constructed Node is no value at all, and false. The aliases of one
// anchor are the same node (==).
class Node {
public:
    Node() = default;

    explicit operator bool() const { return m_tree != nullptr; }
    bool operator==(const Node&) const = default;

    Kind kind() const;
    // A string's value; any other scalar as written; empty for a list or a mapping.
    std::string_view text() const;
    SourceLocation location() const;
    bool is_scalar() const { return kind() != Kind::sequence && kind() != Kind::mapping; }
    // A list's items; empty for anything else.
    Items items() const;
    // A mapping's entries, in Python dict order, one per distinct key; empty for anything else.
    Entries entries() const;

private:
    friend class Tree;
    friend class Items;
    friend class Entries;
    Node(const Tree* tree, std::uint32_t id) : m_tree(tree), m_id(id) {}

    const Tree* m_tree = nullptr;
    std::uint32_t m_id = 0;
};

struct Entry {
    Node key;
    Node value;
};

// The items of a list, as Nodes.
class Items {
public:
    class Iterator {
    public:
        using value_type = Node;
        using difference_type = std::ptrdiff_t;
        Iterator() = default;
        Iterator(const Tree* tree, const std::uint32_t* at) : m_tree(tree), m_at(at) {}
        Node operator*() const { return {m_tree, *m_at}; }
        Iterator& operator++() {
            ++m_at;
            return *this;
        }
        Iterator operator++(int) {
            Iterator before = *this;
            ++m_at;
            return before;
        }
        bool operator==(const Iterator& other) const { return m_at == other.m_at; }

    private:
        const Tree* m_tree = nullptr;
        const std::uint32_t* m_at = nullptr;
    };

    Items() = default;
    Items(const Tree* tree, std::span<const std::uint32_t> ids) : m_tree(tree), m_ids(ids) {}
    std::size_t size() const { return m_ids.size(); }
    bool empty() const { return m_ids.empty(); }
    Node operator[](std::size_t i) const { return {m_tree, m_ids[i]}; }
    Iterator begin() const { return {m_tree, m_ids.data()}; }
    Iterator end() const { return {m_tree, m_ids.data() + m_ids.size()}; }

private:
    const Tree* m_tree = nullptr;
    std::span<const std::uint32_t> m_ids;
};

// The entries of a mapping, as key and value Nodes.
class Entries {
public:
    class Iterator {
    public:
        using value_type = Entry;
        using difference_type = std::ptrdiff_t;
        Iterator() = default;
        Iterator(const Tree* tree, const std::uint32_t* at) : m_tree(tree), m_at(at) {}
        Entry operator*() const { return {{m_tree, m_at[0]}, {m_tree, m_at[1]}}; }
        Iterator& operator++() {
            m_at += 2;
            return *this;
        }
        Iterator operator++(int) {
            Iterator before = *this;
            m_at += 2;
            return before;
        }
        bool operator==(const Iterator& other) const { return m_at == other.m_at; }

    private:
        const Tree* m_tree = nullptr;
        const std::uint32_t* m_at = nullptr;
    };

    Entries() = default;
    // `ids`: keys and values, alternating.
    Entries(const Tree* tree, std::span<const std::uint32_t> ids) : m_tree(tree), m_ids(ids) {}
    std::size_t size() const { return m_ids.size() / 2; }
    bool empty() const { return m_ids.empty(); }
    Entry operator[](std::size_t i) const { return *Iterator(m_tree, m_ids.data() + 2 * i); }
    Entry front() const { return (*this)[0]; }
    Iterator begin() const { return {m_tree, m_ids.data()}; }
    Iterator end() const { return {m_tree, m_ids.data() + m_ids.size()}; }

private:
    const Tree* m_tree = nullptr;
    std::span<const std::uint32_t> m_ids;
};

// A key written twice in one mapping. PyYAML keeps the last value silently; `dropped` is the value
// that is lost, `path` the dotted path of the mapping (empty for the root).
struct DuplicateKey {
    std::string path;
    Node first;   // the key as first written
    Node second;  // the key written again
    Node dropped; // the value of the first one
};

struct Document {
    Node root; // no value for an empty or comment-only stream (safe_load returns None)
    std::vector<DuplicateKey> duplicates;
    std::vector<Finding> errors; // why PyYAML would reject the text; `root` is no value then
    std::shared_ptr<const Tree> storage; // what `root` and the duplicates' nodes point into
};

// What `load` builds at most, so that no input makes it, or a walk of what it returns, take
// time or memory out of proportion to the input. Aliases count as what they stand for.
struct Limits {
    std::size_t depth;        // lists and mappings nested in one another
    std::size_t nodes;        // values, lists and mappings, aliases expanded
    std::size_t scalar_bytes; // the bytes of all values, aliases expanded
};

inline constexpr std::size_t k_max_depth = 256; // PyYAML's safe_load fails near 500
inline constexpr std::size_t k_base_nodes = 10'000;
inline constexpr std::size_t k_base_scalar_bytes = 1'000'000;
inline constexpr std::size_t k_max_text = std::size_t{1} << 30; // the largest text `load` reads

// The limits for a text of `text_size` bytes: a depth of k_max_depth, k_base_nodes plus one node
// per byte, k_base_scalar_bytes plus one byte per byte.
Limits limits_for(std::size_t text_size);

// Loads `text` as `yaml.safe_load` would. Never throws for bad input, never recurses on the input's
// nesting: the reasons go to `errors`, a limit of `limits_for` exceeded included. Time and memory
// are linear in the size of the text. Parses with libyaml (the parser of PyYAML's CSafeLoader);
// this is the entry point for fuzzing the loader.
Document load(std::string_view text);

// Python's name for the type of `kind`: "NoneType", "bool", "int", "float", "datetime", "bytes",
// "str", "list", "dict".
std::string_view python_type(Kind kind);

// What Python's `str()` gives for a scalar `node`: "True", "None", "8" for `010`, "1000" for
// `1_000`; the text as written where crcr does not model the conversion (floats, timestamps).
std::string python_str(const Node& node);

// Whether Python treats `node` as false (`None`, `False`, `0`, `0.0`, `""`).
bool is_falsy(const Node& node);

} // namespace crcr::yaml
