#pragma once

// The relay's allowlist (`.github/allowlist.yml` in pytorch/pytorch, relay-contract section 3):
// the model as the relay reads it, every check `crcr validate-allowlist` makes, and the
// comparison of two versions. Pure: no I/O, no printing.

#include "crcr/finding.hpp"

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crcr {

// The allowlist levels, lowest to highest trust. L1 dispatch only; L2 results on HUD; L3 a check
// run on PRs labelled `ciflow/crcr/<device>`; L4 a blocking check run on every PR.
enum class Level { l1 = 1, l2 = 2, l3 = 3, l4 = 4 };

// "L1".."L4".
std::string_view to_string(Level level);

// One repository as the relay would read it (names stripped of spaces and slashes).
struct AllowlistEntry {
    std::string repo;                 // "owner/name", as written (GitHub's case may differ)
    std::vector<std::string> oncalls; // GitHub logins, without '@'
    std::string device;               // L3 only: the `<device>` of `ciflow/crcr/<device>`
    SourceLocation location;
    Level level = Level::l1; // last: 8 bytes less an entry than after `repo`, where it was padded

    bool operator==(const AllowlistEntry&) const = default;
};

// Every repository the file names, in the relay's order (L1, L2, L3, L4, then file order).
struct Allowlist {
    std::vector<AllowlistEntry> entries;
};

struct AllowlistCheck {
    Allowlist allowlist; // what could be read, even when there are errors (unless skipped)
    std::array<std::size_t, 4> level_counts{}; // repositories listed at L1..L4
    std::vector<Finding> findings;             // ordered by line, then column
};

// Whether check_allowlist builds the model (`allowlist`) or only checks: a check alone keeps
// views into the parsed file and allocates nothing per repository.
enum class AllowlistModel { build, skip };

// Every rule `check_allowlist` and `compare_allowlists` apply, for documentation and SARIF.
std::span<const Rule> allowlist_rules();

// Checks `yaml_text` as the relay's parser would read it, plus crcr's lints: an error where the
// relay would reject the file or act on something other than what the file appears to say, a
// warning where it works but is fragile. Never throws for bad input.
AllowlistCheck check_allowlist(std::string_view yaml_text,
                               AllowlistModel model = AllowlistModel::build);

enum class ChangeKind { added, removed, promoted, demoted, renamed, moved };

// "added", "removed", ...
std::string_view to_string(ChangeKind kind);

// How one repository differs between a base allowlist and a new one. Names are matched
// case-insensitively, as GitHub does.
struct AllowlistChange {
    ChangeKind kind = ChangeKind::added;
    std::string repo;      // the name in the new file (in the base file for `removed`)
    std::string base_repo; // the name in the base file, when it was there
    std::optional<Level> from;
    std::optional<Level> to;
    std::string from_device; // L3 devices, when either side is L3
    std::string to_device;
    SourceLocation location; // in the new file (in the base file for `removed`)

    bool operator==(const AllowlistChange&) const = default;
};

// The changes from `base` to `head`, in `head`'s order, then the removed repositories. A
// promotion or demotion whose name also changed case is one change with `base_repo` != `repo`.
std::vector<AllowlistChange> compare_allowlists(const Allowlist& base, const Allowlist& head);

// A note per change, and the policy warnings: a new repository entering above L1, a promotion
// that skips a level. `base_name` names the base file in messages.
std::vector<Finding> change_findings(const std::vector<AllowlistChange>& changes,
                                     std::string_view base_name);

} // namespace crcr
