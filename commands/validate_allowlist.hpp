#pragma once

#include "crcr/context.hpp"
#include "crcr/exit_code.hpp"

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
} // namespace CLI

namespace crcr {

struct ValidateAllowlistOptions {
    std::vector<std::string> files; // empty: .github/allowlist.yml
    std::string format;  // text, json, github, sarif; empty: github in Actions, else text
    bool strict = false; // warnings fail too
    std::string base;    // the previous version to compare with

    bool operator==(const ValidateAllowlistOptions&) const = default;
};

// Declares `validate-allowlist` on `parent`; `on_parsed` gets the options.
void add_validate_allowlist(CLI::App& parent,
                            std::function<void(const ValidateAllowlistOptions&)> on_parsed);

// Checks each file, prints the findings (and with a base, the changes) in the chosen format on
// ctx.out, and returns `failure` when a file has errors (or warnings, when strict).
ExitCode run_validate_allowlist(const ValidateAllowlistOptions& opts, Context& ctx);

} // namespace crcr
