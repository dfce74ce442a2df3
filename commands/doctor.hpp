#pragma once

#include "github_options.hpp"

#include "crcr/context.hpp"
#include "crcr/exit_code.hpp"

#include <functional>
#include <string>

namespace CLI {
class App;
} // namespace CLI

namespace crcr {

struct DoctorOptions {
    std::string repo;           // the downstream repository, OWNER/NAME
    std::string upstream;       // default pytorch/pytorch
    std::string allowlist_path; // in the upstream; default .github/allowlist.yml
    std::string allowlist_file; // a local allowlist instead of the upstream's
    std::string app_slug;       // default the relay's App
    GitHubOptions github;
    bool json = false;    // one JSON report on stdout
    bool dry_run = false; // list the requests, send nothing
    bool verbose = false; // trace each request and print how many were sent

    bool operator==(const DoctorOptions&) const = default;
};

// Declares `doctor` on `parent`; `on_parsed` gets the options.
void add_doctor(CLI::App& parent, std::function<void(const DoctorOptions&)> on_parsed);

// Runs the checklist for the repository and prints it. `ok` when no check failed, `failure` when
// one did; auth and unavailable when the repository itself cannot be read.
ExitCode run_doctor(const DoctorOptions& opts, Context& ctx);

} // namespace crcr
