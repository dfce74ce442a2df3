#pragma once

// The callback a downstream job sends the relay (relay-contract section 6): its body, checked
// for what the relay cannot take; the Actions OIDC token it authenticates with; and a sender that
// retries only what the relay rejected before recording anything.

#include "crcr/http.hpp"
#include "crcr/junit.hpp"
#include "crcr/payload.hpp"
#include "crcr/random.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace crcr {

// The audience the relay requires of OIDC tokens.
inline constexpr std::string_view k_relay_audience = "pytorch-cross-repo-ci-relay";
// The production callback endpoint (the official action's default, its trailing slash removed).
inline constexpr std::string_view k_production_callback_url =
    "https://gwuj7w5coh4y4l66urspge6mnm0pwaxq.lambda-url.us-east-1.on.aws/github/callback";

// The conclusions GitHub accepts for a completed check run.
std::span<const std::string_view> check_run_conclusions();

// The `workflow` object of a callback. Empty strings are nulls (conclusion, started_at,
// completed_at) or absent (url, artifact_url; check_run_id: then RUN_ID-RUN_ATTEMPT).
struct WorkflowReport {
    std::string status; // in_progress | completed
    std::string conclusion;
    std::string name;
    std::string job_name;
    std::string run_id;
    std::string run_attempt;
    std::string check_run_id;
    std::string url;
    std::string started_at;
    std::string completed_at;
    std::optional<TestCounts> test_results;
    std::string artifact_url;
};

// The `client_payload` of the repository_dispatch event in `event_json` (read from `source`).
// Throws `crcr::Error` naming `source` when it is not JSON or has no client_payload with a
// delivery_id (not the event of a run the relay dispatched).
Json client_payload_of(std::string_view event_json, std::string_view source);

// The client_payload of a nightly or periodic self-report of upstream commit `sha`.
Json self_report_payload(std::string_view event_type, std::string_view sha);

// The callback body: `client_payload` with `workflow` added. Throws `crcr::Error` (usage) for
// what the relay would refuse (400) or choke on (500): an unknown status, a conclusion missing
// or unknown when completed or given when in progress, a run id or attempt that is not an
// integer, an empty job or workflow name.
Json callback_body(Json client_payload, const WorkflowReport& report);

// Mints an Actions OIDC token for `audience`: GET `request_url` (with `&audience=...`) with the
// job's request token. Throws `crcr::Error` (auth, or unavailable without an answer).
std::string mint_actions_oidc_token(HttpClient& http,
                                    std::string_view request_url,
                                    std::string_view request_token,
                                    std::string_view audience = k_relay_audience);

// What the sender may do and how it waits.
struct CallbackPolicy {
    std::chrono::milliseconds max_time{120'000}; // for all attempts and waits together
    bool retry_on_500 = false;
    std::function<std::chrono::system_clock::time_point()> now;
    std::function<void(std::chrono::milliseconds)> sleep;
    std::function<void(const std::string&)> notice;
};

// The wait before retry number `retry` (0 for the first): full jitter over an exponential
// window sized to the relay's 60 s rate-limit window (1 s + up to 5 s, 10 s, 20 s, 40 s, then
// 60 s), or `Retry-After` seconds when the relay sent it.
std::chrono::milliseconds
callback_backoff(int retry, const std::optional<HttpResponse>& answer, Random& random);

// The outcome of sending a callback.
struct CallbackOutcome {
    std::string status; // the relay's: in_progress, completed, or ignored
    int attempts = 0;
    // A retry was refused as a repeat of a step the relay had already recorded: an earlier
    // attempt that got no answer (or a 500) landed.
    bool landed_earlier = false;
    HttpResponse response;
};

// Sends `request`, retrying only what the relay rejects before recording anything (429, 503,
// and attempts that got no answer; 500 with `retry_on_500`), within the policy's time. Throws
// `crcr::Error` for every other outcome, with the relay's detail, a hint and the exit code of
// cli.md: 400 failure, 401/403 auth, 5xx or out of time unavailable.
CallbackOutcome
send_callback(HttpClient& http, HttpRequest request, const CallbackPolicy& policy, Random& random);

} // namespace crcr
