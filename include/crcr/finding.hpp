#pragma once

#include <string>
#include <string_view>

namespace crcr {

// How much a finding matters. Errors fail a check, warnings fail it only when strict, notes never.
enum class Severity { error, warning, note };

// "error", "warning" or "note".
std::string_view to_string(Severity severity);

// A place in a text file: 1-based line and column (in characters); 0 when unknown. `length` is
// how many characters the subject spans on that line, for underlining (0: just the column).
struct SourceLocation {
    int line = 0;
    int column = 0;
    int length = 0;

    bool operator==(const SourceLocation&) const = default;
};

// One problem found in an input file: severity, a stable rule id (kebab-case, never renamed, so
// CI configurations and SARIF consumers can rely on it), a message in git's grammar that says what
// to write instead, and where.
struct Finding {
    Severity severity = Severity::error;
    std::string rule;
    std::string message;
    SourceLocation location;
    // The repository the finding is about ("owner/name" as the file writes it, the relay's
    // stripping applied), so a bot can name it; empty when it is about no single repository.
    std::string repository;

    bool operator==(const Finding&) const = default;
};

// A check that findings come from: its stable id, its usual severity, and what it is about. Used
// for documentation and for the rule table of SARIF reports.
struct Rule {
    std::string_view id;
    Severity severity;
    std::string_view summary;
};

} // namespace crcr
