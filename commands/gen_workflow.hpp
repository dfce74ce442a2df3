#pragma once

#include "crcr/context.hpp"
#include "crcr/exit_code.hpp"
#include "crcr/workflow.hpp"

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
} // namespace CLI

namespace crcr {

struct GenWorkflowOptions {
    std::vector<std::string> runs_on; // runner labels; empty: ubuntu-latest
    std::string build;                // shell command of the build step
    std::string test;                 // shell command of the test step
    std::string steps_file;           // a YAML list of steps instead of --build/--test
    std::string job_name;             // the job's name, reported in callbacks
    int timeout_minutes = 0;          // 0: GitHub's default
    std::string workflow_name;        // empty: "PyTorch CI"
    std::string level = "L1";         // L1..L4
    std::string callback;             // crcr or action; empty: action from L2 up
    std::string crcr_repo;            // OWNER/NAME whose action installs crcr (--callback crcr)
    std::string output;               // empty: .github/workflows/pytorch_ci.yml; - stdout
    bool force = false;               // overwrite an existing file
    bool check = false;               // lint `files` instead of generating
    std::vector<std::string> files;   // the workflows to check
    std::string format;               // text, json, github; empty: github in Actions, else text
    bool strict = false;              // generated-drift fails the check too

    bool operator==(const GenWorkflowOptions&) const = default;
};

// Declares `gen-workflow` on `parent`; `on_parsed` gets the options.
void add_gen_workflow(CLI::App& parent, std::function<void(const GenWorkflowOptions&)> on_parsed);

// The gen-workflow options that reproduce `opts` (what the header records), in a fixed order and
// without --output, --force or the --check ones.
std::vector<std::string> gen_workflow_arguments(const GenWorkflowOptions& opts);

// The workflow `opts` asks for: validates the options (usage errors exit 2) and reads the steps
// file (from `in` when it is -).
WorkflowSpec make_workflow_spec(const GenWorkflowOptions& opts, std::istream& in);

// Writes the workflow (to the default path, --output, or stdout), or with --check lints each file
// and prints the findings; `failure` when a checked file has findings.
ExitCode run_gen_workflow(const GenWorkflowOptions& opts, Context& ctx);

} // namespace crcr
