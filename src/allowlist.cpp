#include "crcr/allowlist.hpp"

#include "crcr/github_names.hpp"
#include "crcr/memory.hpp"
#include "crcr/text.hpp"
#include "crcr/yaml.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <unordered_map>

namespace crcr {

namespace {

using yaml::Kind;
using yaml::Node;

constexpr std::array<Rule, 42> k_rules = {{
    {"invalid-utf8", Severity::error, "the file is not valid UTF-8"},
    {"non-printable-character", Severity::error, "a character YAML does not allow (binary data?)"},
    {"yaml-tab", Severity::error, "a tab where YAML allows only spaces"},
    {"hidden-line-break",
     Severity::error,
     "a line break editors do not show (CR, U+0085, U+2028, U+2029) that YAML obeys"},
    {"yaml-syntax", Severity::error, "the relay's YAML loader (PyYAML safe_load) rejects the file"},
    {"empty-allowlist",
     Severity::error,
     "no repository at all: the relay would dispatch to nothing"},
    {"root-not-mapping", Severity::error, "the file is not a mapping of levels"},
    {"unknown-level", Severity::error, "a level-like key other than L1..L4, ignored by the relay"},
    {"unknown-key", Severity::warning, "a top-level key the relay ignores"},
    {"duplicate-level",
     Severity::error,
     "a level written twice: the relay keeps only the last block"},
    {"duplicate-key", Severity::error, "a key written twice: the relay keeps only the last value"},
    {"level-not-list", Severity::error, "L1, L2 or L4 is not a list"},
    {"level-not-list-value",
     Severity::warning,
     "a level set to a scalar that the relay reads as empty"},
    {"l3-not-mapping", Severity::error, "L3 is not a mapping of devices"},
    {"device-empty", Severity::error, "an empty L3 device name"},
    {"device-not-mapping", Severity::error, "an L3 device that is not a mapping of repositories"},
    {"device-name", Severity::warning, "an L3 device name that is not a plain label-safe token"},
    {"device-name-too-long",
     Severity::error,
     "a device whose label would exceed GitHub's 50 characters"},
    {"empty-device", Severity::warning, "an L3 device with no repository"},
    {"entry-type",
     Severity::error,
     "an entry that is neither 'owner/repo' nor 'owner/repo: oncalls'"},
    {"entry-mapping-keys",
     Severity::error,
     "a mapping entry with more or fewer than one repository"},
    {"entry-not-owner-repo", Severity::error, "a repository not in owner/repo form"},
    {"entry-padding", Severity::warning, "spaces or slashes around a name, stripped by the relay"},
    {"invalid-repo-name", Severity::error, "a repository name that cannot exist on GitHub"},
    {"duplicate-repo",
     Severity::error,
     "a repository listed twice (names compared case-insensitively)"},
    {"relay-mangles-oncall-list", Severity::error, "a YAML list of oncalls under L1, L2 or L4"},
    {"relay-mangles-oncall-string", Severity::error, "a string of oncalls under L3"},
    {"oncall-type", Severity::error, "oncalls of a type the relay's parser cannot iterate"},
    {"yaml-type-coercion", Severity::error, "a name YAML reads as a number, bool or null"},
    {"oncall-at-sign", Severity::error, "an oncall written with '@'"},
    {"invalid-login", Severity::error, "an oncall that is not a valid GitHub login"},
    {"missing-oncall", Severity::warning, "an L3 or L4 repository with no oncall"},
    {"buildkite-invalid-entry", Severity::error, "a buildkite_repos entry the relay skips"},
    {"buildkite-unknown-repo",
     Severity::warning,
     "a Buildkite pipeline mapped to a repo not at L2+"},
    {"new-repo-above-l1", Severity::warning, "a new repository entering above L1"},
    {"promotion-skips-level", Severity::warning, "a promotion by more than one level"},
    {"repo-added", Severity::note, "a repository added"},
    {"repo-removed", Severity::note, "a repository removed"},
    {"repo-promoted", Severity::note, "a repository moved to a higher level"},
    {"repo-demoted", Severity::note, "a repository moved to a lower level"},
    {"repo-renamed", Severity::note, "a repository whose name changed case"},
    {"repo-moved", Severity::note, "an L3 repository moved to another device"},
}};

Severity severity_of(std::string_view rule) {
    for (const Rule& r : k_rules) {
        if (r.id == rule) {
            return r.severity;
        }
    }
    return Severity::error;
}

Finding make_finding(std::string_view rule, std::string message, SourceLocation location) {
    return Finding{severity_of(rule), std::string(rule), std::move(message), location};
}

constexpr std::array<std::string_view, 4> k_level_names = {"L1", "L2", "L3", "L4"};
constexpr std::string_view k_buildkite_key = "buildkite_repos";
constexpr std::size_t k_max_label = 50;
constexpr std::string_view k_label_prefix = "ciflow/crcr/";

// `text` without the leading and trailing characters for which `strip` is true.
template<typename Predicate> std::string_view strip_if(std::string_view text, Predicate strip) {
    while (!text.empty() && strip(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && strip(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

// Python's str.strip() on the ASCII whitespace YAML can carry.
std::string_view strip_spaces(std::string_view text) {
    return strip_if(text, [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    });
}

// A name as the relay reads it: `.strip().strip("/")`.
std::string_view relay_name(std::string_view text) {
    return strip_if(strip_spaces(text), [](char c) { return c == '/'; });
}

// The first UTF-8 character of `text`.
std::string first_character(std::string_view text) {
    std::size_t n = text.empty() ? 0 : 1;
    while (n < text.size() && (static_cast<unsigned char>(text[n]) & 0xC0U) == 0x80U) {
        ++n;
    }
    return std::string(text.substr(0, n));
}

std::string describe(const Node& node) {
    if (node.kind() == Kind::sequence) {
        return "a list";
    }
    if (node.kind() == Kind::mapping) {
        return "a mapping";
    }
    if (node.kind() == Kind::null) {
        return "nothing (null)";
    }
    return fmt::format("{} '{}'", yaml::python_type(node.kind()), node.text());
}

bool looks_like_level(std::string_view key) {
    std::string folded;
    for (const char c : key) {
        if (c != ' ' && c != '_' && c != '-' && c != '\t') {
            folded += to_lower_ascii(c);
        }
    }
    std::string_view rest = folded;
    if (rest.starts_with("level")) {
        rest.remove_prefix(5);
    } else if (rest.starts_with("l")) {
        rest.remove_prefix(1);
    } else {
        return false;
    }
    return !rest.empty()
           && std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The entries by name folded to lower case, as GitHub compares names: their hashes and indices,
// sorted once all are known. A hash table probed for each entry as it came cost a cache miss per
// entry (a tenth of the time at 100,000 entries); sorting reads and writes memory in order.
// One repository the file lists, as the check goes: views into the loaded document, so that a
// check without the model allocates nothing per entry.
struct Listed {
    std::string_view repo;
    std::vector<std::string> oncalls;
    SourceLocation location;
    Level level = Level::l1;
    std::uint32_t device = 0; // L3: 1 + its index in the check's devices; 0 for none
};

class NameIndex {
public:
    explicit NameIndex(const Buffer<Listed>& entries) : m_entries(entries) {
        m_keys.reserve(entries.size());
        for (std::size_t i = 0; i < entries.size(); ++i) {
            m_keys.push_back(std::uint64_t{hash(entries[i].repo)} << 32 | i);
        }
        sort_by_hash();
    }

    // The first entry (in the relay's order) named `name` in any case, or nothing.
    std::optional<std::size_t> find(std::string_view name) const {
        const std::uint64_t h = std::uint64_t{hash(name)} << 32;
        for (auto it = std::lower_bound(m_keys.begin(), m_keys.end(), h);
             it != m_keys.end() && (*it & k_hash_bits) == h;
             ++it) {
            if (same_name(m_entries[*it & k_index_bits].repo, name)) {
                return *it & k_index_bits;
            }
        }
        return std::nullopt;
    }

    // Each entry whose name an earlier entry has (in any case), with that first entry: pairs of
    // (first, again), in the order of `again`.
    std::vector<std::pair<std::size_t, std::size_t>> repeats() const {
        std::vector<std::pair<std::size_t, std::size_t>> out;
        for (std::size_t run = 0; run < m_keys.size();) {
            std::size_t end = run + 1;
            while (end < m_keys.size()
                   && (m_keys[end] & k_hash_bits) == (m_keys[run] & k_hash_bits)) {
                ++end;
            }
            // Within a run of equal hashes, by index: each entry is compared with the first ones
            // of the names already seen (a run of more than one name is a hash collision).
            for (std::size_t i = run + 1; i < end; ++i) {
                const std::size_t again = m_keys[i] & k_index_bits;
                for (std::size_t j = run; j < i; ++j) {
                    const std::size_t first = m_keys[j] & k_index_bits;
                    if (same_name(m_entries[first].repo, m_entries[again].repo)) {
                        out.emplace_back(first, again);
                        break;
                    }
                }
            }
            run = end;
        }
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
            return a.second < b.second;
        });
        return out;
    }

private:
    static constexpr std::uint64_t k_index_bits = 0xFFFF'FFFFU;
    static constexpr std::uint64_t k_hash_bits = ~k_index_bits;

    // Sorts m_keys by hash with a least-significant-byte-first radix sort, which is stable: equal
    // hashes stay in entry order (std::sort of the keys took four times as long).
    void sort_by_hash() {
        Buffer<std::uint64_t> sorted(m_keys.size());
        for (unsigned shift = 32; shift < 64; shift += 8) {
            std::array<std::size_t, 257> next{}; // where the keys with each byte value go
            for (const std::uint64_t key : m_keys) {
                ++next[((key >> shift) & 0xFFU) + 1];
            }
            for (std::size_t i = 1; i < next.size(); ++i) {
                next[i] += next[i - 1];
            }
            for (const std::uint64_t key : m_keys) {
                sorted[next[(key >> shift) & 0xFFU]++] = key;
            }
            m_keys.swap(sorted);
        }
    }

    // FNV-1a over the folded bytes.
    static std::uint32_t hash(std::string_view name) {
        std::uint32_t h = 2166136261U;
        for (const char c : name) {
            h = (h ^ static_cast<unsigned char>(to_lower_ascii(c))) * 16777619U;
        }
        return h;
    }

    // Whether `a` and `b` are the same name once folded (to_lower_ascii's folding).
    static bool same_name(std::string_view a, std::string_view b) {
        return a.size() == b.size()
               && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
                      return to_lower_ascii(x) == to_lower_ascii(y);
                  });
    }

    const Buffer<Listed>& m_entries;
    Buffer<std::uint64_t> m_keys; // the hash of an entry's folded name, then its index
};

class Checker {
public:
    Checker(AllowlistCheck& result, AllowlistModel model) : m_result(result), m_model(model) {}

    void check(const yaml::Document& doc) {
        if (!doc.errors.empty()) {
            m_result.findings = doc.errors;
            return;
        }
        const Node root = doc.root;
        if (root && root.kind() != Kind::mapping && !yaml::is_falsy(root)) {
            add("root-not-mapping",
                fmt::format("the allowlist must be a mapping with keys L1, L2, L3 and L4, not {}; "
                            "the relay rejects the file",
                            describe(root)),
                root.location());
            return;
        }
        report_duplicates(doc);
        if (root && root.kind() == Kind::mapping) {
            m_listed.reserve(entry_capacity(root));
            check_top_level_keys(root);
            for (std::size_t i = 0; i < k_level_names.size(); ++i) {
                const auto level = static_cast<Level>(i + 1);
                const Node value = find(root, k_level_names[i]);
                if (level == Level::l3) {
                    check_l3(value);
                } else {
                    check_list_level(level, value);
                }
            }
            const NameIndex names(m_listed);
            check_duplicates(names);
            check_buildkite(find(root, k_buildkite_key), names);
        }
        if (m_listed.empty() && !has_error()) {
            add("empty-allowlist",
                "the allowlist names no repository: the relay would run with no downstreams at "
                "all; add repositories under L1",
                {1, 1, 0});
        }
        for (const Listed& entry : m_listed) {
            ++m_result.level_counts.at(static_cast<std::size_t>(entry.level) - 1);
        }
        if (m_model == AllowlistModel::build) {
            build_model();
        }
    }

private:
    void add(std::string_view rule, std::string message, SourceLocation location) {
        m_result.findings.push_back(make_finding(rule, std::move(message), location));
        m_result.findings.back().repository = m_repo;
    }

    // Runs `check` on the entry written `written`: the findings it adds name that repository.
    template<typename Check> void check_entry(std::string_view written, Check check) {
        m_repo = relay_name(written);
        check();
        m_repo.clear();
    }

    bool has_error() const {
        return std::any_of(m_result.findings.begin(),
                           m_result.findings.end(),
                           [](const Finding& f) { return f.severity == Severity::error; });
    }

    // How many entries the levels of `root` can hold, so that the list of entries is allocated
    // once (its doublings held up to three times the room it needed at 100,000 entries).
    static std::size_t entry_capacity(const Node& root) {
        std::size_t capacity = 0;
        for (const std::string_view name : k_level_names) {
            const Node value = find(root, name);
            if (value && value.kind() == Kind::sequence) {
                capacity += value.items().size();
            } else if (value && value.kind() == Kind::mapping) {
                for (const yaml::Entry device : value.entries()) {
                    capacity += device.value.entries().size();
                }
            }
        }
        return capacity;
    }

    static Node find(const Node& mapping, std::string_view key) {
        for (const yaml::Entry entry : mapping.entries()) {
            if (entry.key.kind() == Kind::string && entry.key.text() == key) {
                return entry.value;
            }
        }
        return {};
    }

    static void collect_repo_names(const Node& node, std::vector<std::string>& names) {
        if (!node) {
            return;
        }
        if (node.kind() == Kind::string && node.text().find('/') != std::string_view::npos) {
            names.emplace_back(relay_name(node.text()));
        } else if (node.kind() == Kind::sequence) {
            for (const Node item : node.items()) {
                collect_repo_names(item, names);
            }
        } else if (node.kind() == Kind::mapping) {
            for (const yaml::Entry entry : node.entries()) {
                collect_repo_names(entry.key, names);
                if (entry.value.kind() == Kind::mapping) {
                    collect_repo_names(entry.value, names);
                }
            }
        }
    }

    void report_duplicates(const yaml::Document& doc) {
        for (const yaml::DuplicateKey& dup : doc.duplicates) {
            const std::string key = yaml::python_str(dup.first);
            const bool is_level = dup.path.empty()
                                  && std::find(k_level_names.begin(), k_level_names.end(), key)
                                         != k_level_names.end();
            if (is_level) {
                std::vector<std::string> dropped;
                collect_repo_names(dup.dropped, dropped);
                add("duplicate-level",
                    fmt::format("'{}' is written again at line {}; the relay's YAML loader keeps "
                                "only the last '{}' block, so {} would be dropped; merge the two "
                                "blocks",
                                key,
                                dup.second.location().line,
                                key,
                                dropped.empty() ? std::string("this block")
                                                : fmt::format("'{}'", fmt::join(dropped, "', '"))),
                    dup.first.location());
                continue;
            }
            add("duplicate-key",
                fmt::format("'{}' is written twice{} (first at line {}); the relay keeps only this "
                            "last value; merge them",
                            key,
                            dup.path.empty() ? std::string() : fmt::format(" in '{}'", dup.path),
                            dup.first.location().line),
                dup.second.location());
        }
    }

    void check_top_level_keys(const Node& root) {
        for (const yaml::Entry entry : root.entries()) {
            const Node key = entry.key;
            if (key.kind() == Kind::string
                && (key.text() == k_buildkite_key
                    || std::find(k_level_names.begin(), k_level_names.end(), key.text())
                           != k_level_names.end())) {
                continue;
            }
            const std::string name = yaml::python_str(key);
            std::vector<std::string> repos;
            collect_repo_names(entry.value, repos);
            const std::string dropped =
                repos.empty() ? std::string()
                              : fmt::format(" ({} {} dropped)",
                                            repos.size(),
                                            repos.size() == 1 ? "repository" : "repositories");
            if (looks_like_level(name)) {
                const char digit = name.find_last_not_of("0123456789") + 1 < name.size()
                                       ? name[name.find_last_not_of("0123456789") + 1]
                                       : '0';
                const bool known = name.find_first_of("0123456789") == name.size() - 1
                                   && digit >= '1' && digit <= '4';
                add("unknown-level",
                    known
                        ? fmt::format("unknown level '{}': the relay reads only 'L1'..'L4' exactly "
                                      "and ignores this block{}; write 'L{}'",
                                      name,
                                      dropped,
                                      digit)
                        : fmt::format("unknown level '{}': the relay knows only L1, L2, L3 and L4 "
                                      "and ignores this block{}",
                                      name,
                                      dropped),
                    key.location());
            } else {
                add("unknown-key",
                    fmt::format("top-level key '{}' is ignored by the relay{}; it reads only L1, "
                                "L2, L3, L4 and buildkite_repos",
                                name,
                                dropped),
                    key.location());
            }
        }
    }

    void check_list_level(Level level, const Node& value) {
        const std::string_view name = to_string(level);
        if (!value || yaml::is_falsy(value)) {
            if (value && value.kind() != Kind::null && value.kind() != Kind::sequence) {
                add("level-not-list-value",
                    fmt::format("'{}' is {}, which the relay reads as an empty level; write "
                                "'{}: []' or list repositories",
                                name,
                                describe(value),
                                name),
                    value.location());
            }
            return;
        }
        if (value.kind() != Kind::sequence) {
            add("level-not-list",
                fmt::format("'{}' must be a list ('- owner/repo' items), not {}; the relay "
                            "rejects the file",
                            name,
                            describe(value)),
                value.location());
            return;
        }
        const yaml::Items items = value.items();
        for (std::size_t idx = 0; idx < items.size(); ++idx) {
            check_list_item(level, idx, items[idx]);
        }
    }

    void check_list_item(Level level, std::size_t idx, const Node& item) {
        const auto where = [&] { return fmt::format("{}[{}]", to_string(level), idx); };
        if (item.kind() == Kind::string) {
            check_entry(item.text(), [&] { add_entry(level, item, {}, 0, false); });
            return;
        }
        if (item.kind() == Kind::mapping) {
            if (item.entries().size() != 1) {
                add("entry-mapping-keys",
                    fmt::format("{} is a mapping with {} keys; an entry names exactly one "
                                "repository: write one '- owner/repo: oncall1, oncall2' item per "
                                "repository",
                                where(),
                                item.entries().size()),
                    item.location());
                return;
            }
            const yaml::Entry entry = item.entries().front();
            if (entry.key.kind() != Kind::string) {
                add("entry-not-owner-repo",
                    fmt::format("{} names {}, not 'owner/repo'; the relay rejects the file",
                                where(),
                                describe(entry.key)),
                    entry.key.location());
                return;
            }
            check_entry(entry.key.text(), [&] {
                add_entry(level,
                          entry.key,
                          list_level_oncalls(entry.value),
                          0,
                          !yaml::is_falsy(entry.value));
            });
            return;
        }
        add("entry-type",
            fmt::format("{} is {}; an entry is 'owner/repo' or 'owner/repo: oncall1, oncall2'; the "
                        "relay rejects the file",
                        where(),
                        describe(item)),
            item.location());
    }

    // Oncalls under L1, L2 and L4: the relay reads `str(value).split(",")`.
    std::vector<std::string> list_level_oncalls(const Node& value) {
        std::vector<std::string> oncalls;
        if (yaml::is_falsy(value)) {
            return oncalls;
        }
        if (value.kind() == Kind::mapping) {
            add("oncall-type",
                fmt::format("oncalls of '{}' written as a mapping: under L1, L2 and L4 the relay "
                            "reads one comma-separated string; write '{}: oncall1, oncall2'",
                            m_repo,
                            m_repo),
                value.location());
            return oncalls;
        }
        if (value.kind() == Kind::sequence) {
            // The relay does str(list).split(","): ['a', 'b'] becomes "['a'" and "'b']".
            std::vector<std::string> written;
            std::vector<std::string> mangled;
            for (const Node item : value.items()) {
                const std::string text = item.is_scalar() ? yaml::python_str(item) : "...";
                written.push_back(text);
                mangled.push_back(item.kind() == Kind::string ? "'" + text + "'" : text);
            }
            if (!mangled.empty()) {
                mangled.front() = fmt::format("[{}", mangled.front());
                mangled.back() += "]";
            }
            add("relay-mangles-oncall-list",
                fmt::format("oncalls of '{}' written as a YAML list: under L1, L2 and L4 the "
                            "relay reads one comma-separated string and would notify \"{}\"; "
                            "write '{}' instead",
                            m_repo,
                            fmt::join(mangled, "\", \""),
                            fmt::join(written, ", ")),
                value.location());
            return oncalls;
        }
        if (value.kind() != Kind::string) {
            check_coercion(value, oncall_of());
            return oncalls;
        }
        const std::string_view text = value.text();
        std::size_t start = 0;
        while (start <= text.size()) {
            std::size_t comma = text.find(',', start);
            if (comma == std::string_view::npos) {
                comma = text.size();
            }
            const std::string_view login = strip_spaces(text.substr(start, comma - start));
            if (!login.empty()) {
                oncalls.push_back(check_login(std::string(login), value.location()));
            }
            start = comma + 1;
        }
        return oncalls;
    }

    // Oncalls under L3: the relay iterates the value.
    std::vector<std::string> l3_oncalls(const Node& value) {
        std::vector<std::string> oncalls;
        if (yaml::is_falsy(value)) {
            return oncalls;
        }
        if (value.kind() == Kind::string) {
            add("relay-mangles-oncall-string",
                fmt::format("oncalls of '{}' written as the string '{}': under L3 the relay "
                            "iterates it character by character and would notify '{}'; write a "
                            "list: [{}]",
                            m_repo,
                            value.text(),
                            first_character(value.text()),
                            value.text()),
                value.location());
            return oncalls;
        }
        if (value.kind() != Kind::sequence) {
            add("oncall-type",
                fmt::format("oncalls of '{}' written as {}: under L3 the relay expects a list "
                            "of logins and {}; write [login1, login2]",
                            m_repo,
                            describe(value),
                            value.kind() == Kind::mapping ? "would take the keys"
                                                          : "its parser fails on this value"),
                value.location());
            return oncalls;
        }
        for (const Node item : value.items()) {
            if (item.kind() != Kind::string) {
                if (!check_coercion(item, oncall_of()) && item.is_scalar()) {
                    oncalls.push_back(check_login(yaml::python_str(item), item.location()));
                }
                continue;
            }
            const std::string_view login = strip_spaces(item.text());
            if (!login.empty()) {
                oncalls.push_back(check_login(std::string(login), item.location()));
            }
        }
        return oncalls;
    }

    // Reports a non-string scalar whose Python str() is not what was written. Returns true when
    // it reported.
    bool check_coercion(const Node& node, std::string_view what) {
        if (!node.is_scalar()) {
            add("oncall-type",
                fmt::format("{} written as {}; write a plain login", what, describe(node)),
                node.location());
            return true;
        }
        const std::string as_str = yaml::python_str(node);
        if (node.kind() == Kind::null) {
            add("yaml-type-coercion",
                fmt::format("{} is null in YAML and becomes 'None' in the relay; write a name",
                            what),
                node.location());
            return true;
        }
        if (as_str == node.text()) {
            return false;
        }
        add("yaml-type-coercion",
            fmt::format("{} '{}' is read by YAML as {} and becomes '{}' in the relay; quote it: "
                        "\"{}\"",
                        what,
                        node.text(),
                        yaml::python_type(node.kind()),
                        as_str,
                        node.text()),
            node.location());
        return true;
    }

    // "oncall of 'owner/repo'", for messages about one of the current entry's oncalls.
    std::string oncall_of() const { return fmt::format("oncall of '{}'", m_repo); }

    std::string check_login(std::string login, SourceLocation location) {
        if (login.starts_with('@')) {
            add("oncall-at-sign",
                fmt::format("oncall '{}' of '{}' is written with '@'; the oncall bot adds its "
                            "own, so write '{}'",
                            login,
                            m_repo,
                            login.substr(1)),
                location);
            login.erase(0, 1);
            return login;
        }
        if (std::optional<std::string> problem = login_problem(login)) {
            add("invalid-login",
                fmt::format(
                    "oncall '{}' of '{}' is not a GitHub login: {}", login, m_repo, *problem),
                location);
        }
        return login;
    }

    void check_l3(const Node& value) {
        if (!value || yaml::is_falsy(value)) {
            if (value && value.kind() != Kind::null && value.kind() != Kind::mapping) {
                add("level-not-list-value",
                    fmt::format("'L3' is {}, which the relay reads as no devices; write 'L3: {{}}' "
                                "or list devices",
                                describe(value)),
                    value.location());
            }
            return;
        }
        if (value.kind() != Kind::mapping) {
            add("l3-not-mapping",
                fmt::format("'L3' must map device names to repositories ('device:' then "
                            "'  owner/repo: [oncall]'), not {}; the relay rejects the file",
                            describe(value)),
                value.location());
            return;
        }
        for (const yaml::Entry device_entry : value.entries()) {
            check_device(device_entry.key, device_entry.value);
        }
    }

    void check_device(const Node& key, const Node& repos) {
        const std::string raw = yaml::python_str(key);
        if (key.kind() != Kind::string) {
            check_coercion(key, "device name");
        }
        const std::string device(strip_spaces(raw));
        if (device.empty()) {
            add("device-empty",
                "L3 device name is empty; the relay rejects the file; name the device (the label "
                "is ciflow/crcr/<device>)",
                key.location());
            return;
        }
        if (device != raw) {
            add("entry-padding",
                fmt::format("device name '{}' has surrounding spaces, which the relay strips; "
                            "write '{}'",
                            raw,
                            device),
                key.location());
        }
        check_device_name(device, key.location());
        if (repos.kind() != Kind::mapping) {
            add("device-not-mapping",
                fmt::format("device '{}' must map repositories to oncalls ('owner/repo: [login]'), "
                            "not {}; the relay rejects the file",
                            device,
                            describe(repos)),
                repos.kind() != Kind::null ? repos.location() : key.location());
            return;
        }
        if (repos.entries().empty()) {
            add("empty-device",
                fmt::format("device '{}' lists no repository; remove it or add one", device),
                key.location());
        }
        m_devices.push_back(device);
        const auto device_id = static_cast<std::uint32_t>(m_devices.size());
        for (const yaml::Entry entry : repos.entries()) {
            if (entry.key.kind() != Kind::string) {
                add("entry-not-owner-repo",
                    fmt::format("L3.{} names {}, not 'owner/repo'; the relay rejects the file",
                                device,
                                describe(entry.key)),
                    entry.key.location());
                continue;
            }
            check_entry(entry.key.text(), [&] {
                add_entry(Level::l3,
                          entry.key,
                          l3_oncalls(entry.value),
                          device_id,
                          !yaml::is_falsy(entry.value));
            });
        }
    }

    void check_device_name(const std::string& device, SourceLocation location) {
        if (device.size() + k_label_prefix.size() > k_max_label) {
            add("device-name-too-long",
                fmt::format("device name '{}' makes the label '{}{}' longer than GitHub's 50 "
                            "characters, so it can never be applied; use at most {} characters",
                            device,
                            k_label_prefix,
                            device,
                            k_max_label - k_label_prefix.size()),
                location);
            return;
        }
        const bool token = (std::isalnum(static_cast<unsigned char>(device[0])) != 0)
                           && std::all_of(device.begin(), device.end(), [](char c) {
                                  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                                         || (c >= '0' && c <= '9') || c == '-' || c == '_'
                                         || c == '.';
                              });
        if (!token) {
            add("device-name",
                fmt::format("device name '{}' is not a plain label token; the PR label "
                            "'{}{}' is hard to type and match; use letters, digits, '-', '_' "
                            "and '.'",
                            device,
                            k_label_prefix,
                            device),
                location);
        }
    }

    // Files the entry written `node`; `device` is 1 + the index of its L3 device in m_devices.
    void add_entry(Level level,
                   const Node& node,
                   std::vector<std::string> oncalls,
                   std::uint32_t device,
                   bool oncalls_written) {
        const std::string_view written = node.text();
        const std::string_view repo = relay_name(written);
        if (repo.empty() || repo.find('/') == std::string_view::npos) {
            add("entry-not-owner-repo",
                fmt::format("'{}' is not in owner/repo form; the relay rejects the file", written),
                node.location());
            return;
        }
        if (repo != written) {
            add("entry-padding",
                fmt::format("'{}' has surrounding spaces or slashes, which the relay strips; write "
                            "'{}'",
                            written,
                            repo),
                node.location());
        }
        if (std::optional<std::string> problem = full_name_problem(repo)) {
            add("invalid-repo-name",
                fmt::format("'{}' cannot be a GitHub repository: {}", repo, *problem),
                node.location());
        }
        if (level >= Level::l3 && oncalls.empty() && !oncalls_written) {
            add("missing-oncall",
                fmt::format("'{}' is at {} with no oncall; nobody would be notified when its "
                            "check run fails; add '{}'",
                            repo,
                            to_string(level),
                            level == Level::l3 ? "[login]" : ": login"),
                node.location());
        }
        m_listed.push_back({repo, std::move(oncalls), node.location(), level, device});
    }

    // The model of what was listed, in the relay's order: strings of its own.
    void build_model() {
        std::vector<AllowlistEntry>& entries = m_result.allowlist.entries;
        entries.reserve(m_listed.size());
        prefer_huge_pages(entries.data(), entries.capacity() * sizeof(AllowlistEntry));
        for (Listed& listed : m_listed) {
            entries.push_back({std::string(listed.repo),
                               std::move(listed.oncalls),
                               listed.device == 0 ? std::string() : m_devices[listed.device - 1],
                               listed.location,
                               listed.level});
        }
    }

    // A repository listed twice (names compared as GitHub does) is reported at the second place.
    void check_duplicates(const NameIndex& names) {
        for (const std::pair<std::size_t, std::size_t>& repeat : names.repeats()) {
            const Listed& first = m_listed[repeat.first];
            const Listed& again = m_listed[repeat.second];
            check_entry(again.repo, [&] { check_duplicate(first, again.repo, again.location); });
        }
    }

    void check_duplicate(const Listed& first, std::string_view repo, SourceLocation location) {
        const std::string through_alias = first.location == location
                                              ? std::string(" through an alias or merge key")
                                              : std::string();
        if (first.repo == repo) {
            add("duplicate-repo",
                fmt::format("'{}' is listed twice{} (also at line {}, {}); the relay rejects the "
                            "whole file; keep one entry",
                            repo,
                            through_alias,
                            first.location.line,
                            to_string(first.level)),
                location);
        } else {
            add("duplicate-repo",
                fmt::format("'{}' and '{}' (line {}, {}) are the same GitHub repository, since "
                            "names are case-insensitive; the relay would dispatch to it twice; "
                            "keep one entry",
                            repo,
                            first.repo,
                            first.location.line,
                            to_string(first.level)),
                location);
        }
    }

    void check_buildkite(const Node& section, const NameIndex& names) {
        if (!section || yaml::is_falsy(section)) {
            return;
        }
        if (section.kind() != Kind::mapping) {
            add("buildkite-invalid-entry",
                fmt::format("'buildkite_repos' must map 'org/pipeline' to 'owner/repo', not {}; "
                            "the relay ignores it, so Buildkite callbacks would be refused",
                            describe(section)),
                section.location());
            return;
        }
        for (const yaml::Entry entry : section.entries()) {
            const std::string pipeline(strip_spaces(yaml::python_str(entry.key)));
            const std::string repo(strip_spaces(yaml::python_str(entry.value)));
            if (pipeline.find('/') == std::string::npos || repo.find('/') == std::string::npos) {
                add("buildkite-invalid-entry",
                    fmt::format("buildkite_repos entry '{}: {}' is skipped by the relay; write "
                                "'org_slug/pipeline_slug: owner/repo'",
                                pipeline,
                                repo),
                    entry.key.location());
                continue;
            }
            const std::optional<std::size_t> seen = names.find(repo);
            if (!seen || m_listed[*seen].level < Level::l2) {
                check_entry(repo, [&] {
                    add("buildkite-unknown-repo",
                        fmt::format("Buildkite pipeline '{}' reports as '{}', which is not listed "
                                    "at L2 or above; its callbacks would be ignored",
                                    pipeline,
                                    repo),
                        entry.value.location());
                });
            }
        }
    }

    AllowlistCheck& m_result;
    AllowlistModel m_model;
    Buffer<Listed> m_listed;            // what the file lists, as read so far
    std::vector<std::string> m_devices; // the L3 devices, as the relay names them
    std::string m_repo; // the entry being checked, named by the findings added meanwhile
};

} // namespace

std::string_view to_string(Level level) {
    return k_level_names.at(static_cast<std::size_t>(level) - 1);
}

std::span<const Rule> allowlist_rules() {
    return k_rules;
}

AllowlistCheck check_allowlist(std::string_view yaml_text, AllowlistModel model) {
    AllowlistCheck result;
    Checker(result, model).check(yaml::load(yaml_text));
    std::stable_sort(
        result.findings.begin(), result.findings.end(), [](const Finding& a, const Finding& b) {
            return std::pair(a.location.line, a.location.column)
                   < std::pair(b.location.line, b.location.column);
        });
    return result;
}

std::string_view to_string(ChangeKind kind) {
    constexpr std::array<std::string_view, 6> k_names = {
        "added", "removed", "promoted", "demoted", "renamed", "moved"};
    return k_names.at(static_cast<std::size_t>(kind));
}

std::vector<AllowlistChange> compare_allowlists(const Allowlist& base, const Allowlist& head) {
    std::unordered_map<std::string, const AllowlistEntry*> in_base;
    for (const AllowlistEntry& entry : base.entries) {
        in_base.emplace(to_lower_ascii(entry.repo), &entry);
    }
    std::unordered_map<std::string, bool> in_head;
    std::vector<AllowlistChange> changes;
    for (const AllowlistEntry& entry : head.entries) {
        const std::string key = to_lower_ascii(entry.repo);
        if (!in_head.emplace(key, true).second) {
            continue;
        }
        const auto it = in_base.find(key);
        if (it == in_base.end()) {
            changes.push_back({ChangeKind::added,
                               entry.repo,
                               {},
                               std::nullopt,
                               entry.level,
                               {},
                               entry.device,
                               entry.location});
            continue;
        }
        const AllowlistEntry& old = *it->second;
        AllowlistChange change{ChangeKind::renamed,
                               entry.repo,
                               old.repo,
                               old.level,
                               entry.level,
                               old.device,
                               entry.device,
                               entry.location};
        if (entry.level > old.level) {
            change.kind = ChangeKind::promoted;
        } else if (entry.level < old.level) {
            change.kind = ChangeKind::demoted;
        } else if (entry.device != old.device) {
            change.kind = ChangeKind::moved;
        } else if (entry.repo == old.repo) {
            continue;
        }
        changes.push_back(std::move(change));
    }
    for (const AllowlistEntry& entry : base.entries) {
        if (in_head.emplace(to_lower_ascii(entry.repo), true).second) {
            changes.push_back({ChangeKind::removed,
                               entry.repo,
                               entry.repo,
                               entry.level,
                               std::nullopt,
                               entry.device,
                               {},
                               entry.location});
        }
    }
    return changes;
}

std::vector<Finding> change_findings(const std::vector<AllowlistChange>& changes,
                                     std::string_view base_name) {
    std::vector<Finding> findings;
    for (const AllowlistChange& c : changes) {
        const std::size_t first_of_change = findings.size();
        const std::string renamed =
            !c.base_repo.empty() && c.base_repo != c.repo
                ? fmt::format(" (written '{}' in {})", c.base_repo, base_name)
                : std::string();
        const std::string device_of_to =
            c.to_device.empty() ? "" : fmt::format(" (device '{}')", c.to_device);
        switch (c.kind) {
        case ChangeKind::added:
            findings.push_back(make_finding(
                "repo-added",
                fmt::format("'{}' added at {}{}", c.repo, to_string(*c.to), device_of_to),
                c.location));
            if (*c.to > Level::l1) {
                findings.push_back(make_finding(
                    "new-repo-above-l1",
                    fmt::format("'{}' is new and enters at {}; repositories onboard at L1 and move "
                                "up one level at a time",
                                c.repo,
                                to_string(*c.to)),
                    c.location));
            }
            break;
        case ChangeKind::removed:
            findings.push_back(make_finding("repo-removed",
                                            fmt::format("'{}' removed (was {} at line {} of {})",
                                                        c.repo,
                                                        to_string(*c.from),
                                                        c.location.line,
                                                        base_name),
                                            {}));
            break;
        case ChangeKind::promoted:
        case ChangeKind::demoted:
            findings.push_back(
                make_finding(c.kind == ChangeKind::promoted ? "repo-promoted" : "repo-demoted",
                             fmt::format("'{}' {} {} -> {}{}{}",
                                         c.repo,
                                         to_string(c.kind),
                                         to_string(*c.from),
                                         to_string(*c.to),
                                         device_of_to,
                                         renamed),
                             c.location));
            if (c.kind == ChangeKind::promoted
                && static_cast<int>(*c.to) - static_cast<int>(*c.from) > 1) {
                findings.push_back(make_finding(
                    "promotion-skips-level",
                    fmt::format("'{}' jumps from {} to {}; promote one level at a time",
                                c.repo,
                                to_string(*c.from),
                                to_string(*c.to)),
                    c.location));
            }
            break;
        case ChangeKind::renamed:
            findings.push_back(make_finding(
                "repo-renamed",
                fmt::format(
                    "'{}' changed case{}; GitHub treats both as one repository", c.repo, renamed),
                c.location));
            break;
        case ChangeKind::moved:
            findings.push_back(make_finding("repo-moved",
                                            fmt::format("'{}' moved from device '{}' to '{}'{}",
                                                        c.repo,
                                                        c.from_device,
                                                        c.to_device,
                                                        renamed),
                                            c.location));
            break;
        }
        for (std::size_t i = first_of_change; i < findings.size(); ++i) {
            findings[i].repository = c.repo;
        }
    }
    return findings;
}

} // namespace crcr
