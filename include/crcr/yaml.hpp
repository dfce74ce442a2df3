#pragma once

// A YAML loader that yields what PyYAML's `yaml.safe_load` yields, with source locations. The
// relay reads its allowlist with `safe_load`, so crcr must see the same values: YAML 1.1 implicit
// types (`yes` is a bool, `010` an int), merge keys (`<<`), aliases, and duplicate mapping keys
// resolved as Python does (the last value wins, at the first key's place). What PyYAML rejects
// (tabs where a token starts, `@` starting a scalar, several documents, unknown tags, invalid
// UTF-8, non-printable characters) is reported as an error finding instead of a document.

#include "crcr/finding.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace crcr::yaml {

// The Python type a YAML node becomes under `safe_load`.
enum class Kind { null, boolean, integer, floating, timestamp, binary, string, sequence, mapping };

struct Node;
using NodePtr = std::shared_ptr<const Node>;

struct Entry {
    NodePtr key;
    NodePtr value;
};

struct Node {
    Kind kind = Kind::null;
    std::string text; // a string's value; any other scalar as written
    SourceLocation location;
    std::vector<NodePtr> items; // sequence
    std::vector<Entry> entries; // mapping, in Python dict order, one entry per distinct key

    bool is_scalar() const { return kind != Kind::sequence && kind != Kind::mapping; }
};

// A key written twice in one mapping. PyYAML keeps the last value silently; `dropped` is the value
// that is lost, `path` the dotted path of the mapping (empty for the root).
struct DuplicateKey {
    std::string path;
    NodePtr first;   // the key as first written
    NodePtr second;  // the key written again
    NodePtr dropped; // the value of the first one
};

struct Document {
    NodePtr root; // nullptr for an empty or comment-only stream (safe_load returns None)
    std::vector<DuplicateKey> duplicates;
    std::vector<Finding> errors; // why PyYAML would reject the text; `root` is nullptr then
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

// Whether Python treats the scalar `node` as false (`None`, `False`, `0`, `0.0`, `""`).
bool is_falsy(const Node& node);

} // namespace crcr::yaml
