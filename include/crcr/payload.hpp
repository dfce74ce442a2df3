#pragma once

// Realistic GitHub webhook bodies for `pull_request` (every action GitHub defines), `push`, and
// the other events the relay reads: `check_run` and `check_suite` `rerequested` (a crcr check
// run, as the relay names them) and the App's `ping`; valid against both of GitHub's descriptions
// (@octokit/webhooks-schemas and
// @octokit/openapi-webhooks), with values that belong together agreeing: `number` and
// `pull_request.number`, `synchronize`'s `after` and `pull_request.head.sha`, URLs built from the
// repository name, node ids from database ids. Pure: randomness and time are parameters.

#include "crcr/random.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crcr {

using Json = nlohmann::ordered_json; // keeps keys in GitHub's order

// The downstream repository in the name of a check run the relay created
// (crcr/<owner>/<repo>/<workflow>/<job>, as the relay parses it), or "" for any other name.
std::string check_run_repo(std::string_view name);

// The events `build_payload` builds: pull_request, push, check_run, check_suite, ping.
std::span<const std::string_view> simulated_events();

// The pull_request actions GitHub defines, in its documentation's order.
std::span<const std::string_view> pull_request_actions();

// What a simulated delivery looks like. Empty or unset fields get realistic random values.
struct PayloadShape {
    std::string event;  // "pull_request", "push", "check_run", "check_suite" or "ping"
    std::string action; // pull_request; check_run and check_suite: rerequested (the default)
    std::string repo = "pytorch/pytorch";
    std::string sender = "octocat";
    // pull_request
    std::optional<std::uint64_t> pr;
    std::string title;
    std::string head_sha;
    std::string base_sha;
    std::string head_ref;
    std::string base_ref = "main";
    std::string head_repo; // a fork "owner/name"; empty: the branch is in `repo`
    std::vector<std::string> labels;
    bool merged = false;
    // push
    std::string ref = "refs/heads/main";
    std::string before;
    std::string after;
    bool deleted = false;
    bool forced = false;
    // check_run, check_suite (the pull request: `pr`, `head_sha`, `head_ref`, `base_ref`)
    std::string check_name;                      // default crcr/pytorch/crcr-test/PyTorch CI/build
    std::optional<std::uint64_t> run_id;         // the downstream run, in `external_id`
    std::optional<std::uint64_t> check_suite_id; // the check suite the relay re-runs

    bool operator==(const PayloadShape&) const = default;
};

// The webhook body for `shape`. Throws `crcr::Error` (with `ExitCode::usage`: these come from the
// command line) for an unknown event or action, or shape values that cannot go together (a
// merged PR that is not closed, a malformed SHA or name). So do `set_path`, `parse_assignment`
// and `parse_time` for what they reject.
Json build_payload(const PayloadShape& shape,
                   Random& random,
                   std::chrono::system_clock::time_point now);

// Sets the value at `path` (dots between keys, `[N]` or `.N` for list items, e.g.
// `pull_request.labels[0].name`) in `payload`. The path must exist, and the new value must have
// the JSON type of the old one (any type may replace null), or be null where GitHub's webhook
// schemas allow it; otherwise throws `crcr::Error` saying which part is missing or which type
// was expected.
void set_path(Json& payload, std::string_view path, const Json& value);

// A `--set PATH=VALUE` argument: VALUE as JSON when it parses, otherwise as a string.
std::pair<std::string, Json> parse_assignment(std::string_view assignment);

// `text` as any JSON value, nested at most 512 levels. Throws `crcr::Error` starting with
// `source` and giving the line and column of a syntax error.
Json parse_json_document(std::string_view text, std::string_view source);

// `text` as a webhook body: a JSON object, nested at most 512 levels (deeper JSON would overflow
// the stack of the parser). Throws `crcr::Error` starting with `source` ("--payload 'x.json'")
// and giving the line and column of a syntax error.
Json parse_webhook_body(std::string_view text, std::string_view source);

// GitHub's legacy global node id for a `type` ("User", "Repository", ...) and database id:
// base64("0<length of type>:<type><id>"), e.g. "MDQ6VXNlcjU4MzIzMQ==" for user 583231.
std::string github_node_id(std::string_view type, std::uint64_t id);

// 40 zeros: the SHA GitHub uses for "no commit" (a created or deleted branch).
inline constexpr std::string_view k_null_sha = "0000000000000000000000000000000000000000";

// `when` as GitHub writes timestamps: "2026-11-26T10:00:00Z".
std::string iso8601(std::chrono::system_clock::time_point when);

// Parses an ISO 8601 UTC time ("2026-11-26T10:00:00Z", fractions and "+00:00" accepted) or
// seconds since the epoch ("@1790000000"). Throws `crcr::Error` when it is neither.
std::chrono::system_clock::time_point parse_time(std::string_view text);

} // namespace crcr
