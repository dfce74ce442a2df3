#pragma once

#include "github_options.hpp"
#include "payload_options.hpp"

#include "crcr/context.hpp"
#include "crcr/exit_code.hpp"

#include <functional>
#include <string>

namespace CLI {
class App;
} // namespace CLI

namespace crcr {

struct DispatchTestOptions {
    std::string repo;        // the downstream repository, OWNER/NAME
    PayloadOptions payload;  // event (default pull_request) and action (default opened) included
    std::string delivery_id; // client_payload.delivery_id; random when empty
    GitHubOptions github;
    bool force = false;         // send a body GitHub's limits would refuse
    bool watch = false;         // follow the run the dispatch starts
    double timeout = 3600;      // seconds --watch follows a run in all
    double start_timeout = 120; // seconds --watch waits for a run to appear
    bool dry_run = false;       // print the requests, send nothing
    bool json = false;          // one JSON result on stdout

    bool operator==(const DispatchTestOptions&) const = default;
};

// Declares `dispatch-test` on `parent`; `on_parsed` gets the options.
void add_dispatch_test(CLI::App& parent, std::function<void(const DispatchTestOptions&)> on_parsed);

// Sends the relay's repository_dispatch to the repository and, with --watch, follows the run it
// starts. `ok` when GitHub accepted it (and the watched runs passed).
ExitCode run_dispatch_test(const DispatchTestOptions& opts, Context& ctx);

} // namespace crcr
