#pragma once

#include "crcr/context.hpp"
#include "crcr/exit_code.hpp"

#include <functional>

namespace CLI {
class App;
} // namespace CLI

namespace crcr {

// How a parsed subcommand is run: `add_x` hands its options to this as a function of the
// (possibly `--verbose`-wrapped) context, and it stores the exit code.
using CommandRunner = std::function<void(std::function<ExitCode(Context&)>)>;

// Declares every subcommand on `app` (commands/cli.cpp holds THE list of crcr's commands).
void add_commands(CLI::App& app, const CommandRunner& run);

// Parses `argv`, runs the chosen command with `ctx`, and returns the process exit status. The one
// place that catches `crcr::Error` (printed as `crcr: error: ...`) and maps usage errors to 2.
int run_cli(int argc, const char* const* argv, Context& ctx);

} // namespace crcr
