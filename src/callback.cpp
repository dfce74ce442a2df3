#include "crcr/callback.hpp"

#include "crcr/error.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

namespace crcr {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::array<std::string_view, 7> k_conclusions = {
    "success", "failure", "cancelled", "skipped", "timed_out", "neutral", "action_required"};
constexpr auto k_attempt_timeout = seconds(30); // at most, and at most a quarter of --max-time

bool is_integer(std::string_view text) {
    return !text.empty() && text.size() <= 19
           && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

// The relay's explanation in an answer: FastAPI's `detail`, or a `message`, or the body.
std::string relay_detail(const HttpResponse& response) {
    const Json body = Json::parse(response.body, nullptr, false);
    for (const char* key : {"detail", "message", "error"}) {
        if (body.is_object() && body.contains(key) && body[key].is_string()) {
            return body[key].get<std::string>();
        }
    }
    std::string raw = response.body.substr(0, 300);
    std::replace_if(
        raw.begin(), raw.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }, ' ');
    return raw.empty() ? response.reason : raw;
}

std::string hint_for_400(std::string_view detail) {
    if (contains(detail, "missing required field")) {
        return "crcr checks the workflow fields itself, so the event file's client_payload is "
               "probably incomplete: is it the repository_dispatch event the relay sent?";
    }
    if (contains(detail, "no matching dispatch record")) {
        return "the relay has no dispatch of this delivery to this repository: the event file "
               "must be this run's repository_dispatch event, and the token's repository the one "
               "the relay dispatched to (nightly and periodic runs use --event-type and --sha)";
    }
    if (contains(detail, "invalid state transition")) {
        return "each job reports in_progress once, then completed once: this step was reported "
               "already, or completed came before in_progress; matrix legs need distinct "
               "--job-name values";
    }
    if (contains(detail, "unknown callback status")) {
        return "the status is in_progress or completed";
    }
    return "the relay refused the callback";
}

Error explain(const HttpResponse& response, bool retry_on_500) {
    const std::string detail = relay_detail(response);
    const int status = response.status;
    if (status == 400) {
        return Error(fmt::format(
            "the relay refused the callback (400 {}): {}", detail, hint_for_400(detail)));
    }
    if (status == 401) {
        return Error(fmt::format("the relay refused the token (401 {}): it checks the OIDC token's "
                                 "signature, audience ({}), expiry (tokens live about 5 minutes: "
                                 "mint one right before the call) and repository claim; "
                                 "--explain-token shows them",
                                 detail,
                                 k_relay_audience),
                     ExitCode::auth);
    }
    if (status == 403) {
        return Error(fmt::format("the relay refused the caller (403 {}): a Buildkite pipeline must "
                                 "be registered in the allowlist's buildkite_repos",
                                 detail),
                     ExitCode::auth);
    }
    if (status == 500 && !retry_on_500) {
        return Error(
            fmt::format("the relay answered 500 ({}): HUD failed after the relay's own "
                        "retries; the relay recorded the step before calling HUD, so "
                        "sending it again gets 400 'invalid state transition': not retried "
                        "(--retry-on-500 retries anyway)",
                        detail),
            ExitCode::unavailable);
    }
    if (status >= 500) {
        return Error(fmt::format("the relay answered {} ({})", status, detail),
                     ExitCode::unavailable);
    }
    return Error(fmt::format("the relay answered {} ({})", status, detail));
}

std::string sent_status(const HttpRequest& request) {
    const Json body = Json::parse(request.body, nullptr, false);
    return body.is_object() && body.contains("workflow") && body["workflow"].is_object()
               ? body["workflow"].value("status", "")
               : "";
}

} // namespace

std::span<const std::string_view> check_run_conclusions() {
    return k_conclusions;
}

Json client_payload_of(std::string_view event_json, std::string_view source) {
    Json event = parse_webhook_body(event_json, fmt::format("event file '{}'", source));
    if (!event.contains("client_payload") || !event["client_payload"].is_object()) {
        throw Error(fmt::format("event file '{}' has no 'client_payload' object: it is not the "
                                "repository_dispatch event of a run the relay started (nightly and "
                                "periodic runs use --event-type and --sha)",
                                source));
    }
    Json payload = std::move(event["client_payload"]);
    if (!payload.contains("delivery_id") || !payload["delivery_id"].is_string()
        || payload["delivery_id"].get<std::string>().empty()) {
        throw Error(fmt::format("event file '{}': client_payload has no 'delivery_id', which the "
                                "relay needs to match the callback to its dispatch",
                                source));
    }
    payload.erase("workflow"); // ours replaces any
    return payload;
}

Json self_report_payload(std::string_view event_type, std::string_view sha) {
    if (event_type != "nightly" && event_type != "periodic") {
        throw Error(fmt::format("--event-type '{}' is not nightly or periodic", event_type),
                    ExitCode::usage);
    }
    if (sha.size() != 40 || !std::all_of(sha.begin(), sha.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        })) {
        throw Error(fmt::format("--sha '{}' is not a commit SHA (40 lowercase hex digits)", sha),
                    ExitCode::usage);
    }
    return Json{
        {"event_type", event_type},
        {"delivery_id", sha},
        {"payload", {{"repository", {{"full_name", "pytorch/pytorch"}}}, {"head_sha", sha}}}};
}

Json callback_body(Json client_payload, const WorkflowReport& report) {
    const auto usage = [](const std::string& message) { return Error(message, ExitCode::usage); };
    if (report.status != "in_progress" && report.status != "completed") {
        throw usage(fmt::format("--status '{}' is not in_progress or completed", report.status));
    }
    if (report.status == "completed") {
        if (report.conclusion.empty()) {
            throw usage(fmt::format("--status completed needs --conclusion: {}",
                                    fmt::join(k_conclusions, ", ")));
        }
        if (std::find(k_conclusions.begin(), k_conclusions.end(), report.conclusion)
            == k_conclusions.end()) {
            throw usage(fmt::format("--conclusion '{}' is not a GitHub conclusion: {}",
                                    report.conclusion,
                                    fmt::join(k_conclusions, ", ")));
        }
    } else if (!report.conclusion.empty()) {
        throw usage("--conclusion goes with --status completed; an in_progress callback has none");
    }
    // What a job outside GitHub Actions must say, all named at once.
    struct Needed {
        const std::string& value;
        std::string_view what;
        std::string_view option;
        std::string_view variable;
    };
    const std::array<Needed, 4> needed = {{
        {report.name, "workflow name", "--workflow-name", "GITHUB_WORKFLOW"},
        {report.job_name, "job name", "--job-name", "GITHUB_JOB"},
        {report.run_id, "run id", "--run-id", "GITHUB_RUN_ID"},
        {report.run_attempt, "run attempt", "--run-attempt", "GITHUB_RUN_ATTEMPT"},
    }};
    std::vector<std::string_view> missing;
    std::vector<std::string_view> options;
    std::vector<std::string_view> variables;
    for (const Needed& n : needed) {
        if (n.value.empty()) {
            missing.push_back(n.what);
            options.push_back(n.option);
            variables.push_back(n.variable);
        }
    }
    // "a", "a or b", "a, b or c"
    const auto list = [](const std::vector<std::string_view>& items, std::string_view last) {
        const std::vector<std::string_view> head(items.begin(), items.end() - 1);
        return head.empty() ? std::string(items.back())
                            : fmt::format("{} {} {}", fmt::join(head, ", "), last, items.back());
    };
    if (!missing.empty()) {
        throw usage(fmt::format("no {}: {}, or {} inside GitHub Actions",
                                list(missing, "or"),
                                list(options, "and"),
                                list(variables, "and")));
    }
    for (const auto& [value, what] :
         {std::pair{report.run_id, "run id"}, std::pair{report.run_attempt, "run attempt"}}) {
        if (!is_integer(value)) {
            throw usage(fmt::format(
                "{} '{}' is not an integer (the relay answers 500 to it)", what, value));
        }
    }
    const auto or_null = [](const std::string& value) {
        return value.empty() ? Json() : Json(value);
    };
    Json workflow = {
        {"schema_version", "1"},
        {"status", report.status},
        {"conclusion", or_null(report.conclusion)},
        {"name", report.name},
        {"job_name", report.job_name},
        {"run_id", report.run_id},
        {"run_attempt", report.run_attempt},
        {"check_run_id",
         report.check_run_id.empty() ? report.run_id + "-" + report.run_attempt
                                     : report.check_run_id},
    };
    if (!report.url.empty()) {
        workflow["url"] = report.url;
    }
    workflow["started_at"] = or_null(report.started_at);
    workflow["completed_at"] = or_null(report.completed_at);
    if (report.test_results) {
        workflow["test_results"] = {{"passed", report.test_results->passed},
                                    {"failed", report.test_results->failed},
                                    {"skipped", report.test_results->skipped}};
    }
    if (!report.artifact_url.empty()) {
        workflow["artifact_url"] = report.artifact_url;
    }
    client_payload["workflow"] = std::move(workflow);
    return client_payload;
}

std::string mint_actions_oidc_token(HttpClient& http,
                                    std::string_view request_url,
                                    std::string_view request_token,
                                    std::string_view audience) {
    HttpRequest request;
    request.method = "GET";
    request.url = fmt::format(
        "{}{}audience={}", request_url, contains(request_url, "?") ? "&" : "?", audience);
    request.headers = {{"Authorization", fmt::format("Bearer {}", request_token)},
                       {"Accept", "application/json; api-version=2.0"},
                       {"User-Agent", user_agent()}};
    const HttpResponse response = http.send(request);
    const Json body = Json::parse(response.body, nullptr, false);
    if (response.status != 200 || !body.is_object() || !body.contains("value")
        || !body["value"].is_string()) {
        throw Error(
            fmt::format("GitHub Actions would not mint an OIDC token ({} {}): the job needs "
                        "'permissions: id-token: write'",
                        response.status,
                        relay_detail(response)),
            response.status >= 500 ? ExitCode::unavailable : ExitCode::auth);
    }
    return body["value"].get<std::string>();
}

milliseconds
callback_backoff(int retry, const std::optional<HttpResponse>& answer, Random& random) {
    if (const auto after = answer ? retry_after(*answer) : std::nullopt) {
        return std::max<milliseconds>(*after, milliseconds(1000));
    }
    const long long window_ms = std::min(60'000LL, 5'000LL << std::min(retry, 4));
    return milliseconds(
        1'000
        + static_cast<long long>(random.between(0, static_cast<std::uint64_t>(window_ms - 1'000))));
}

CallbackOutcome
send_callback(HttpClient& http, HttpRequest request, const CallbackPolicy& policy, Random& random) {
    const auto start = policy.now();
    bool maybe_landed = false; // an earlier attempt may have been recorded
    std::string last;
    for (int attempt = 1;; ++attempt) {
        const auto elapsed = std::chrono::duration_cast<milliseconds>(policy.now() - start);
        request.timeout = std::clamp(std::min(policy.max_time - elapsed, policy.max_time / 4),
                                     milliseconds(1'000),
                                     milliseconds(k_attempt_timeout));
        std::optional<HttpResponse> answer;
        try {
            answer = http.send(request);
        } catch (const Error& e) {
            if (e.code() != ExitCode::unavailable) {
                throw;
            }
            maybe_landed = true;
            last = fmt::format("no answer: {}", e.what());
        }
        if (answer) {
            const int status = answer->status;
            if (status >= 200 && status < 300) {
                const Json body = Json::parse(answer->body, nullptr, false);
                const std::string relay_status =
                    body.is_object() && body.contains("status") && body["status"].is_string()
                        ? body["status"].get<std::string>()
                        : sent_status(request);
                return CallbackOutcome{relay_status, attempt, false, *answer};
            }
            if (status == 400 && maybe_landed
                && contains(relay_detail(*answer), "invalid state transition")) {
                return CallbackOutcome{sent_status(request), attempt, true, *answer};
            }
            if (status == 500) {
                maybe_landed = true; // the relay saves its state before it calls HUD
            }
            const bool retryable =
                status == 429 || status == 503 || (status == 500 && policy.retry_on_500);
            if (!retryable) {
                throw explain(*answer, policy.retry_on_500);
            }
            last = fmt::format("{} {}", status, relay_detail(*answer));
        }
        const milliseconds wait = callback_backoff(attempt - 1, answer, random);
        const auto spent = std::chrono::duration_cast<milliseconds>(policy.now() - start);
        if (spent + wait >= policy.max_time) {
            throw Error(fmt::format("the relay did not take the callback after {} attempts in {} s "
                                    "(--max-time {} s; the next one would be {} s later); last: {}",
                                    attempt,
                                    std::chrono::duration_cast<seconds>(spent).count(),
                                    std::chrono::duration_cast<seconds>(policy.max_time).count(),
                                    std::chrono::ceil<seconds>(wait).count(),
                                    last),
                        ExitCode::unavailable);
        }
        policy.notice(fmt::format("callback attempt {} failed ({}); trying again in {:.1f} s",
                                  attempt,
                                  last,
                                  static_cast<double>(wait.count()) / 1000.0));
        policy.sleep(wait);
    }
}

} // namespace crcr
