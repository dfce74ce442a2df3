#pragma once

#include "github_options.hpp"

#include "crcr/context.hpp"
#include "crcr/exit_code.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace CLI {
class App;
} // namespace CLI

namespace crcr {

// Which hook and which of its deliveries: shared by the four subcommands.
struct DeliveriesSelection {
    std::string repo;          // --repo OWNER/NAME: a repository's hook
    std::string org;           // --org ORG: an organization's hook
    std::uint64_t hook_id = 0; // with --repo or --org
    std::string since;         // TIME or DURATION; empty: the command's default
    bool failed = false;       // only failed attempts
    std::string event;         // --event
    std::string action;        // --action
    std::string guid;          // --guid
    GitHubOptions github;

    bool operator==(const DeliveriesSelection&) const = default;
};

struct DeliveriesListOptions {
    DeliveriesSelection selection;
    bool json = false;

    bool operator==(const DeliveriesListOptions&) const = default;
};

struct DeliveriesShowOptions {
    DeliveriesSelection selection;
    std::string delivery; // ID (digits) or GUID
    bool json = false;

    bool operator==(const DeliveriesShowOptions&) const = default;
};

struct DeliveriesPullOptions {
    DeliveriesSelection selection;
    std::string output; // FILE (JSON Lines) or DIR/ (one file a delivery)
    bool force = false; // overwrite

    bool operator==(const DeliveriesPullOptions&) const = default;
};

struct DeliveriesRedeliverOptions {
    DeliveriesSelection selection;
    bool dry_run = false;
    std::size_t max = 50; // refuse to act on more without --force
    bool force = false;   // also what may have been dispatched, and more than --max
    double rate = 1;      // redeliveries a second
    std::string state;    // --state FILE
    bool explain = false;
    bool json = false;

    bool operator==(const DeliveriesRedeliverOptions&) const = default;
};

// Declares `deliveries` with `list`, `show`, `pull` and `redeliver` on `parent`.
void add_deliveries(CLI::App& parent,
                    std::function<void(const DeliveriesListOptions&)> on_list,
                    std::function<void(const DeliveriesShowOptions&)> on_show,
                    std::function<void(const DeliveriesPullOptions&)> on_pull,
                    std::function<void(const DeliveriesRedeliverOptions&)> on_redeliver);

// Prints the selected deliveries, newest first.
ExitCode run_deliveries_list(const DeliveriesListOptions& opts, Context& ctx);
// Prints one delivery's request and the answer it got, secrets redacted.
ExitCode run_deliveries_show(const DeliveriesShowOptions& opts, Context& ctx);
// Writes the selected deliveries' records, for `crcr replay`.
ExitCode run_deliveries_pull(const DeliveriesPullOptions& opts, Context& ctx);
// Asks GitHub to redeliver the selected failures that the relay cannot have dispatched.
ExitCode run_deliveries_redeliver(const DeliveriesRedeliverOptions& opts, Context& ctx);

} // namespace crcr
