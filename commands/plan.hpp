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

struct PlanOptions {
    std::string event;
    std::string action;
    std::vector<std::string> labels;
    std::string allowlist = ".github/allowlist.yml";
    std::string payload_file; // a captured webhook body instead of a built one
    bool json = false;

    bool operator==(const PlanOptions&) const = default;
};

// Declares `plan` on `parent`; `on_parsed` gets the options.
void add_plan(CLI::App& parent, std::function<void(const PlanOptions&)> on_parsed);

// Prints what the relay would do with the event. `failure` when the allowlist has errors the
// relay would reject it for.
ExitCode run_plan(const PlanOptions& opts, Context& ctx);

} // namespace crcr
