#pragma once

// `crcr doctor`: the relay's onboarding and troubleshooting checklist for a downstream repository
// (the docs' "Workflow not triggering" list), each item answered from GitHub's REST API with GET
// requests only, a bounded number of them. Every check ends passed, failed or unknown (with why it
// could not be checked), and says what to do.

#include "crcr/github.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crcr {

// The relay's GitHub App (relay-contract section 1).
inline constexpr std::string_view k_relay_app_slug = "pytorch-fdn-cross-repo-ci-relay";
inline constexpr std::string_view k_default_upstream = "pytorch/pytorch";
inline constexpr std::string_view k_default_allowlist_path = ".github/allowlist.yml";

// Bounds on the requests whose number depends on what GitHub answers.
inline constexpr std::size_t k_doctor_max_workflow_files = 10; // read on the default branch
inline constexpr std::size_t k_doctor_max_branch_files = 3;    // read on other branches
inline constexpr std::size_t k_doctor_max_oncalls = 10;        // logins looked up

enum class CheckStatus { passed, failed, unknown };

// "passed", "failed" or "unknown".
std::string_view to_string(CheckStatus status);

// One item of the checklist.
struct DoctorCheck {
    std::string id;    // stable: onboarding, app, workflow, actions, traffic, callbacks
    std::string title; // "Onboarding", "The App", ...
    CheckStatus status = CheckStatus::unknown;
    std::string summary;              // what was found, or why it could not be checked
    std::vector<std::string> details; // the evidence, one fact a line ("file:line:col: ...")
    std::string fix;                  // what to do; empty when passed
};

// What to check and with which credentials.
struct DoctorInput {
    std::string repo; // the downstream repository, OWNER/NAME
    std::string upstream = std::string(k_default_upstream);
    std::string allowlist_path = std::string(k_default_allowlist_path); // in the upstream
    std::optional<std::string> allowlist_text; // --allowlist FILE instead of the upstream's
    std::string allowlist_name;                // names that file in messages
    std::string app_slug = std::string(k_relay_app_slug);
    std::string token;        // empty: public data only, no Authorization header
    std::string token_source; // "GH_TOKEN", "--token-file 'x'", for explanations
    std::string app_jwt;      // a GitHub App's JWT: the App's own installation is looked up
};

struct DoctorReport {
    std::string repo;                // GitHub's canonical name
    std::vector<DoctorCheck> checks; // in the checklist's order
    std::size_t requests = 0;        // sent to GitHub, all GET

    bool failed() const;
};

// The most requests `diagnose` sends.
std::size_t doctor_max_requests();

// The requests `diagnose` may send for `input`, "GET <url>" with a note when a request depends
// on an earlier answer, for --dry-run. Pure.
std::vector<std::string> doctor_requests(const DoctorInput& input, std::string_view api_url);

// Runs the checklist against `api`. Throws `crcr::Error` only when the repository itself cannot be
// read: 401 (auth: the token is refused), 403 (auth), 404 (failure: missing, or private and
// invisible to the token; both explained), 5xx or no answer (unavailable). Any later refusal
// makes its check unknown, with GitHub's reason.
DoctorReport diagnose(GitHubApi& api, const DoctorInput& input);

} // namespace crcr
