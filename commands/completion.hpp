#pragma once

#include "crcr/context.hpp"
#include "crcr/exit_code.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace CLI {
class App;
} // namespace CLI

namespace crcr {

struct CompletionOptions {
    std::string shell; // bash, zsh or fish

    bool operator==(const CompletionOptions&) const = default;
};

// Declares `completion SHELL` on `parent`; `on_parsed` gets the options.
void add_completion(CLI::App& parent, std::function<void(const CompletionOptions&)> on_parsed);

// The completion script for `shell` ("bash", "zsh" or "fish"): the file in completions/, compiled
// in. Empty for any other shell.
std::string_view completion_script(std::string_view shell);

// Prints the script for `opts.shell`.
ExitCode run_completion(const CompletionOptions& opts, Context& ctx);

} // namespace crcr
