#pragma once

// The relay's repository_dispatch (relay-contract section 4): the body it sends, GitHub's limits
// checked before anything is sent, the answers explained, and the workflow runs a dispatch
// starts. Shared by `dispatch-test`, `replay --dispatch-to` and the relay emulator.

#include "crcr/github.hpp"
#include "crcr/payload.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crcr {

inline constexpr std::size_t k_event_type_max_length = 100;
inline constexpr std::size_t k_client_payload_max_keys = 10;
inline constexpr std::size_t k_client_payload_max_bytes = 65'536; // "under 64 KB" of JSON

// {"event_type": <event>, "client_payload": {"event_type", "delivery_id", "payload"}}.
Json dispatch_body(std::string_view event_type, std::string_view delivery_id, Json payload);

// One field of a payload and the bytes it takes in compact JSON.
struct FieldSize {
    std::string path; // "payload.pull_request.body"
    std::size_t bytes = 0;
};

// What GitHub will think of a dispatch body, before it is sent.
struct Preflight {
    std::size_t event_type_length = 0;
    std::size_t keys = 0;  // top-level properties of client_payload
    std::size_t bytes = 0; // client_payload, compact JSON
    // The largest fields (strings, numbers, whole lists; objects are looked into), largest first.
    std::vector<FieldSize> largest;
    // Why GitHub would answer 422; empty when it would take the body.
    std::vector<std::string> problems;

    // At 75 % of the size limit or more: worth showing the largest fields.
    bool near_limit() const { return bytes * 4 >= k_client_payload_max_bytes * 3; }
};

// Checks `body` (as `dispatch_body` makes it) against GitHub's limits: event_type 1-100
// characters, client_payload an object of at most 10 properties and under 64 KB.
Preflight preflight_dispatch(const Json& body, std::size_t largest_count = 5);

// Sends `body` to `POST /repos/{repo}/dispatches` with `token`. Returns GitHub's 204 answer.
// Otherwise throws `crcr::Error` with the answer explained and its exit code: a 404 is probed with
// `GET /repos/{repo}` to tell a missing (or invisible) repository from one this token cannot
// write to; 401/403 name the permission needed; 422 says the likely cause; 5xx says the dispatch
// may have landed (never retried: a retry would start a second run).
HttpResponse
send_dispatch(GitHubApi& api, std::string_view repo, const std::string& token, const Json& body);

// A workflow run, as `GET /repos/{o}/{r}/actions/runs` lists them.
struct WorkflowRun {
    std::uint64_t id = 0;
    std::string name;          // the workflow's name
    std::string display_title; // its run-name
    std::string event;
    std::string status;     // queued, in_progress, completed, ...
    std::string conclusion; // success, failure, ... once completed
    std::string html_url;
    std::optional<std::chrono::system_clock::time_point> created_at;
};

// The runs of a `GET .../actions/runs` answer. Throws `crcr::Error` when it is not that shape.
std::vector<WorkflowRun> parse_workflow_runs(const std::string& body);
// One run, from `GET .../actions/runs/{id}`.
WorkflowRun parse_workflow_run(const std::string& body);

// The runs a dispatch started: `repository_dispatch` runs created at `since` or later (GitHub's
// clock), only those whose title names `delivery_id` as a whole word when any do (gen-workflow's
// run-name ends with `delivery <id>`, which identifies the run for certain among a busy
// repository's runs).
std::vector<WorkflowRun> runs_started_by(const std::vector<WorkflowRun>& runs,
                                         std::chrono::system_clock::time_point since,
                                         std::string_view delivery_id);

// Whether a completed run's conclusion counts as passing (success, neutral, skipped).
bool conclusion_passes(std::string_view conclusion);

} // namespace crcr
