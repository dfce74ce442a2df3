#pragma once

#include "crcr/context.hpp"
#include "crcr/exit_code.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
} // namespace CLI

namespace crcr {

struct CallbackOptions {
    std::string status;     // in_progress | completed
    std::string conclusion; // with completed
    std::string url;        // the callback endpoint; default CRCR_CALLBACK_URL, then production
    std::string event_file; // default GITHUB_EVENT_PATH
    std::string event_type; // nightly | periodic: a self-report
    std::string sha;        // the upstream commit of a self-report
    // Given (even empty), or GITHUB_JOB, GITHUB_WORKFLOW, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT.
    std::optional<std::string> job_name;
    std::optional<std::string> workflow_name;
    std::optional<std::string> run_id;
    std::optional<std::string> run_attempt;
    std::string run_url;      // default GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/RUN_ID
    std::string check_run_id; // default RUN_ID-RUN_ATTEMPT
    std::string started_at;   // default: now for in_progress, null for completed
    std::string test_results; // passed=N,failed=N,skipped=N
    std::vector<std::string> junit;
    std::string artifact_url;
    std::string token_file; // default CRCR_OIDC_TOKEN, then minted inside Actions
    bool explain_token = false;
    double max_time = 120; // seconds for every attempt and wait
    bool retry_on_500 = false;
    bool dry_run = false;
    bool json = false;

    bool operator==(const CallbackOptions&) const = default;
};

// Declares `callback` on `parent`; `on_parsed` gets the options.
void add_callback(CLI::App& parent, std::function<void(const CallbackOptions&)> on_parsed);

// Builds the callback, gets the token, sends it with safe retries. `ok` when the relay took it
// (or ignored it: the repository is below L2).
ExitCode run_callback(const CallbackOptions& opts, Context& ctx);

} // namespace crcr
