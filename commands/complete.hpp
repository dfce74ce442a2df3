#pragma once

#include "crcr/context.hpp"
#include "crcr/exit_code.hpp"

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
class Validator;
} // namespace CLI

namespace crcr {

// What a shell should offer for the word under the cursor.
struct Completion {
    struct Candidate {
        std::string value;
        std::string description; // one line; empty when there is nothing to add

        bool operator==(const Candidate&) const = default;
    };
    std::vector<Candidate> candidates; // only those starting with the word typed so far
    bool files = false;                // offer file names too (the shell lists them)

    bool operator==(const Completion&) const = default;
};

// The completion of a command line whose words after "crcr" are `words`, the last one being the
// (possibly empty) word under the cursor. Asks `app`'s CLI11 tree, so new commands and options
// complete without listing them anywhere: visible subcommands; long options of the command and
// of the commands above it, except those given already (unless repeatable) or excluded by one
// given; the values of `CLI::IsMember` checks and of `completion_values` hints, after the option
// or as `--option=value`; and files where an option or positional takes a file (type FILE,
// --*-file, --output, --payload, --junit, --private-key, positional FILE). Hidden subcommands and
// options (empty group) are never offered. Pure.
Completion complete(CLI::App& app, const std::vector<std::string>& words);

// A check that accepts anything and only tells `complete` which values to offer, for free-text
// arguments with well-known values (simulate's ACTION). Invisible in --help.
CLI::Validator completion_values(std::span<const std::string_view> values);

// The protocol between `crcr __complete` and the scripts in completions/: one line per candidate,
// "value<TAB>description" (tabs and line breaks in descriptions become spaces), then a line
// ":files" when the shell should offer file names too.
std::string format_completion(const Completion& completion);

struct CompleteOptions {
    std::vector<std::string> words; // after "crcr", the last one under the cursor

    bool operator==(const CompleteOptions&) const = default;
};

// Declares the hidden `__complete WORD...` on `root` (not in --help, the man page or the command
// list); `on_parsed` gets the options. The completion scripts call it as `crcr __complete -- ...`.
void add_complete(CLI::App& root, std::function<void(const CompleteOptions&)> on_parsed);

// Prints `format_completion(complete(root, opts.words))`. Always `ok`: a shell ignores failures.
ExitCode run_complete(CLI::App& root, const CompleteOptions& opts, Context& ctx);

} // namespace crcr
