#include "callback.hpp"

#include "complete.hpp"
#include "json_result.hpp"
#include "option_checks.hpp"

#include "crcr/callback.hpp"
#include "crcr/error.hpp"
#include "crcr/files.hpp"
#include "crcr/jwt.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <cmath>

namespace crcr {

namespace {

// The flag's value when it was given (even empty), else the variable's.
std::string
env_or(const Context& ctx, const std::optional<std::string>& flag, std::string_view variable) {
    return flag ? *flag : ctx.env.get(variable).value_or("");
}

// The flag's value unless empty, else the variable's.
std::string env_or(const Context& ctx, const std::string& flag, std::string_view variable) {
    return !flag.empty() ? flag : ctx.env.get(variable).value_or("");
}

std::string trim_token(std::string text) {
    const std::size_t end = text.find_last_not_of(" \t\r\n");
    text.erase(end == std::string::npos ? 0 : end + 1);
    return text.substr(std::min(text.size(), text.find_first_not_of(" \t\r\n")));
}

// The OIDC token: --token-file, CRCR_OIDC_TOKEN, or minted from the Actions endpoint.
std::string oidc_token(const CallbackOptions& opts, HttpClient& http, Context& ctx) {
    if (!opts.token_file.empty()) {
        std::string token = trim_token(read_file(opts.token_file, 1U << 20U));
        if (token.empty()) {
            throw Error(fmt::format("token file '{}' is empty", opts.token_file), ExitCode::auth);
        }
        return token;
    }
    if (const auto token = ctx.env.get("CRCR_OIDC_TOKEN"); token && !trim_token(*token).empty()) {
        return trim_token(*token);
    }
    const auto url = ctx.env.get("ACTIONS_ID_TOKEN_REQUEST_URL");
    const auto request_token = ctx.env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
    if (url && request_token && !url->empty() && !request_token->empty()) {
        return mint_actions_oidc_token(http, *url, *request_token);
    }
    if (ctx.env.get("GITHUB_ACTIONS") == "true") {
        throw Error(fmt::format("cannot mint an OIDC token: {} is not set, so the job lacks "
                                "'permissions: id-token: write'; add it to the job that calls back",
                                url && !url->empty() ? "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
                                                     : "ACTIONS_ID_TOKEN_REQUEST_URL"),
                    ExitCode::auth);
    }
    throw Error(
        "no OIDC token: --token-file or CRCR_OIDC_TOKEN (outside GitHub Actions nothing can "
        "mint one; inside, the job needs 'permissions: id-token: write')",
        ExitCode::auth);
}

std::string time_left(long long seconds) {
    const long long s = seconds < 0 ? -seconds : seconds;
    const std::string amount = s < 120 ? fmt::format("{} s", s) : fmt::format("{} min", s / 60);
    return seconds >= 0 ? fmt::format("{} left", amount) : fmt::format("expired {} ago", amount);
}

// The token's parts, or an authentication error saying why it is not a JWT.
DecodedJwt decode_token(const std::string& token) {
    try {
        return decode_jwt(token);
    } catch (const Error& e) {
        throw Error(fmt::format("the OIDC token is not usable: {}", e.what()), ExitCode::auth);
    }
}

// Refuses a token the relay will refuse, before sending: not a JWT, expired, wrong audience.
nlohmann::json check_token(const std::string& token, Context& ctx) {
    const DecodedJwt jwt = decode_token(token);
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(ctx.now().time_since_epoch()).count();
    if (jwt.claims.contains("exp") && jwt.claims["exp"].is_number()
        && jwt.claims["exp"].get<long long>() <= now) {
        throw Error(fmt::format("the OIDC token {} (tokens live about 5 minutes: mint it right "
                                "before the callback)",
                                time_left(jwt.claims["exp"].get<long long>() - now)),
                    ExitCode::auth);
    }
    const nlohmann::json aud = jwt.claims.value("aud", nlohmann::json());
    if (!has_audience(jwt.claims, k_relay_audience)) {
        throw Error(fmt::format("the OIDC token's audience is {}, and the relay accepts only '{}': "
                                "mint it with that audience",
                                aud.dump(),
                                k_relay_audience),
                    ExitCode::auth);
    }
    return jwt.claims;
}

// The token's claims for a dry run, which sends nothing: not checked, none when not a JWT.
nlohmann::json unchecked_claims(const std::string& token) {
    try {
        return decode_jwt(token).claims;
    } catch (const Error&) {
        return nlohmann::json::object();
    }
}

void explain_token(const std::string& token, Context& ctx) {
    const DecodedJwt jwt = decode_token(token);
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(ctx.now().time_since_epoch()).count();
    fmt::print(ctx.out, "header: {}\n", jwt.header.dump());
    const auto show = [&](const char* claim, const std::string& note) {
        fmt::print(ctx.out,
                   "{}: {}{}\n",
                   claim,
                   jwt.claims.contains(claim) ? jwt.claims[claim].dump() : "(missing)",
                   note.empty() ? "" : "  (" + note + ")");
    };
    const nlohmann::json aud = jwt.claims.value("aud", nlohmann::json());
    show("iss", "");
    show("aud",
         aud == k_relay_audience ? "as the relay requires"
                                 : fmt::format("the relay requires '{}'", k_relay_audience));
    show("repository", "the relay's identity for the caller");
    if (jwt.claims.contains("exp") && jwt.claims["exp"].is_number()) {
        const long long exp = jwt.claims["exp"].get<long long>();
        show("exp",
             fmt::format("{}, {}",
                         iso8601(std::chrono::system_clock::time_point(std::chrono::seconds(exp))),
                         time_left(exp - now)));
    } else {
        show("exp", "");
    }
    std::vector<std::string> others;
    for (const auto& [key, value] : jwt.claims.items()) {
        if (key != "iss" && key != "aud" && key != "repository" && key != "exp") {
            others.push_back(key);
        }
    }
    fmt::print(ctx.out, "other claims: {}\n", fmt::join(others, ", "));
    fmt::print(ctx.out, "(the signature is not shown)\n");
}

// The run's page: --run-url, else built from the repository (GITHUB_REPOSITORY, else the
// token's `repository` claim, the relay's own identity of the caller) and the run id; empty
// (the callback goes without one: the relay does not need it) when neither says which.
std::string run_url(const CallbackOptions& opts,
                    const nlohmann::json& claims,
                    const std::string& run_id,
                    Context& ctx) {
    if (!opts.run_url.empty()) {
        return opts.run_url;
    }
    std::string repository = ctx.env.get("GITHUB_REPOSITORY").value_or("");
    if (repository.empty() && claims.contains("repository") && claims["repository"].is_string()) {
        repository = claims["repository"].get<std::string>();
    }
    if (repository.empty()) {
        fmt::print(ctx.err,
                   "crcr: note: no run URL (--run-url, GITHUB_REPOSITORY, or a token with a "
                   "'repository' claim): the callback goes without one\n");
        return {};
    }
    return fmt::format("{}/{}/actions/runs/{}",
                       ctx.env.get("GITHUB_SERVER_URL").value_or("https://github.com"),
                       repository,
                       run_id);
}

WorkflowReport
make_report(const CallbackOptions& opts, const nlohmann::json& claims, Context& ctx) {
    WorkflowReport report;
    report.status = opts.status;
    report.conclusion = opts.conclusion;
    report.name = env_or(ctx, opts.workflow_name, "GITHUB_WORKFLOW");
    report.job_name = env_or(ctx, opts.job_name, "GITHUB_JOB");
    report.run_id = env_or(ctx, opts.run_id, "GITHUB_RUN_ID");
    report.run_attempt = env_or(ctx, opts.run_attempt, "GITHUB_RUN_ATTEMPT");
    report.check_run_id = opts.check_run_id;
    report.url = run_url(opts, claims, report.run_id, ctx);
    const std::string now = iso8601(ctx.now());
    if (!opts.started_at.empty()) {
        report.started_at = iso8601(parse_time(opts.started_at));
    } else if (opts.status == "in_progress") {
        report.started_at = now;
    }
    if (opts.status == "completed") {
        report.completed_at = now;
    }
    if (!opts.test_results.empty()) {
        report.test_results = parse_test_counts(opts.test_results);
    } else if (!opts.junit.empty()) {
        TestCounts total;
        for (const std::string& file : opts.junit) {
            total += count_junit(read_file(file), file);
        }
        report.test_results = total;
    }
    report.artifact_url = opts.artifact_url;
    return report;
}

std::string callback_url(const CallbackOptions& opts, Context& ctx) {
    std::string url = env_or(ctx, opts.url, "CRCR_CALLBACK_URL");
    if (url.empty()) {
        url = std::string(k_production_callback_url);
    }
    while (url.ends_with('/')) {
        url.pop_back();
    }
    if (!url.starts_with("https://") && !url.starts_with("http://")) {
        throw Error(
            fmt::format("callback URL '{}' is not an http:// or https:// URL", redact_url(url)),
            ExitCode::usage);
    }
    return url;
}

ExitCode report(const CallbackOptions& opts, nlohmann::ordered_json& result, Context& ctx) {
    if (opts.status.empty() && !opts.explain_token) {
        throw Error("--status is required: in_progress or completed", ExitCode::usage);
    }
    DryRunHttpClient dry_run(ctx.out, [](const HttpRequest&) {
        return HttpResponse{.status = 200, .reason = "OK", .body = R"({"value":"dry-run"})"};
    });
    HttpClient& http = opts.dry_run ? static_cast<HttpClient&>(dry_run) : ctx.http;
    std::string token;
    try {
        token = oidc_token(opts, http, ctx);
    } catch (const Error& e) {
        if (!opts.dry_run || e.code() != ExitCode::auth) {
            throw;
        }
        fmt::print(ctx.err, "crcr: note: {}\n", e.what()); // a dry run shows the request anyway
        token = "none";
    }
    if (opts.explain_token) {
        explain_token(token, ctx);
        return ExitCode::ok;
    }
    const nlohmann::json claims = opts.dry_run ? unchecked_claims(token) : check_token(token, ctx);
    Json client_payload;
    if (!opts.event_type.empty()) {
        if (opts.status != "completed") {
            throw Error("a nightly or periodic self-report is one --status completed callback",
                        ExitCode::usage);
        }
        client_payload = self_report_payload(opts.event_type, opts.sha);
    } else {
        const std::string event_file = env_or(ctx, opts.event_file, "GITHUB_EVENT_PATH");
        if (event_file.empty()) {
            throw Error("no event file: --event-file, or GITHUB_EVENT_PATH inside GitHub Actions "
                        "(nightly and periodic runs use --event-type and --sha)",
                        ExitCode::usage);
        }
        client_payload = client_payload_of(read_file(event_file), event_file);
    }
    const WorkflowReport workflow = make_report(opts, claims, ctx);
    const Json body = callback_body(std::move(client_payload), workflow);
    result["delivery_id"] = body["delivery_id"];
    result["job_name"] = workflow.job_name;
    HttpRequest request{"POST",
                        callback_url(opts, ctx),
                        {{"Content-Type", "application/json"},
                         {"Accept", "application/json"},
                         {"User-Agent", user_agent()},
                         {"Authorization", "Bearer " + token}},
                        body.dump()};
    if (opts.dry_run) {
        dry_run.send(request);
        return ExitCode::ok;
    }
    Random random(ctx.random_seed());
    const CallbackPolicy policy{
        .max_time =
            std::chrono::milliseconds(static_cast<long long>(std::llround(opts.max_time * 1000))),
        .retry_on_500 = opts.retry_on_500,
        .now = ctx.now,
        .sleep = ctx.sleep,
        .notice = [&ctx](const std::string& text) { fmt::print(ctx.err, "crcr: {}\n", text); }};
    const CallbackOutcome outcome = send_callback(ctx.http, std::move(request), policy, random);
    result["status"] = outcome.status;
    result["attempts"] = outcome.attempts;
    result["http_status"] = outcome.response.status;
    result["landed_earlier"] = outcome.landed_earlier;
    const std::string repository = claims.value("repository", std::string("this repository"));
    if (outcome.status == "ignored") {
        fmt::print(ctx.err,
                   "crcr: warning: the relay ignored the callback: '{}' is below L2 or not in the "
                   "allowlist, so nothing reaches HUD or the PR's checks\n",
                   repository);
    } else if (outcome.landed_earlier) {
        fmt::print(ctx.err,
                   "crcr: note: the relay already had this {} step: an earlier attempt that got no "
                   "answer (or a 500) was recorded, so the report stands\n",
                   workflow.status);
    }
    if (!opts.json) {
        fmt::print(ctx.out,
                   "callback {}: {} for job '{}' (run {}, attempt {}){}\n",
                   outcome.status == "ignored" ? "ignored" : "accepted",
                   workflow.status,
                   workflow.job_name,
                   workflow.run_id,
                   workflow.run_attempt,
                   outcome.attempts > 1 ? fmt::format(" after {} attempts", outcome.attempts) : "");
    }
    return ExitCode::ok;
}

} // namespace

void add_callback(CLI::App& parent, std::function<void(const CallbackOptions&)> on_parsed) {
    auto opts = std::make_shared<CallbackOptions>();
    CLI::App* cmd = parent.add_subcommand(
        "callback", "Report a downstream job's status to the relay (HUD and the PR's check runs)");
    const std::string report_group = "Report";
    cmd->add_option("--status", opts->status, "in_progress or completed")
        ->check(CLI::IsMember({"in_progress", "completed"}))
        ->type_name("STATUS")
        ->group(report_group);
    cmd->add_option("--conclusion",
                    opts->conclusion,
                    "With completed: success, failure, cancelled, skipped, timed_out, neutral, "
                    "action_required")
        ->check(
            completion_values(check_run_conclusions())) // checked with the report, which says why
        ->type_name("CONCLUSION")
        ->group(report_group);
    cmd->add_option("--event-file",
                    opts->event_file,
                    "The repository_dispatch event whose client_payload is echoed (default "
                    "GITHUB_EVENT_PATH)")
        ->type_name("FILE")
        ->group(report_group);
    auto* event_type =
        cmd->add_option("--event-type",
                        opts->event_type,
                        "Self-report a nightly or periodic run (with --sha, completed only)")
            ->check(CLI::IsMember({"nightly", "periodic"}))
            ->type_name("TYPE")
            ->group(report_group);
    auto* sha = cmd->add_option("--sha", opts->sha, "The upstream commit a self-report tested")
                    ->type_name("SHA")
                    ->group(report_group);
    event_type->needs(sha);
    sha->needs(event_type);
    cmd->get_option("--event-file")->excludes(event_type);
    cmd->add_option(
           "--job-name", opts->job_name, "The job, unique per matrix leg (default GITHUB_JOB)")
        ->type_name("NAME")

        ->group(report_group);
    cmd->add_option(
           "--workflow-name", opts->workflow_name, "The workflow (default GITHUB_WORKFLOW)")
        ->type_name("NAME")

        ->group(report_group);
    cmd->add_option("--run-id", opts->run_id, "The run (default GITHUB_RUN_ID)")
        ->type_name("ID")
        ->transform(whole_number(k_github_id))
        ->group(report_group);
    cmd->add_option("--run-attempt", opts->run_attempt, "The attempt (default GITHUB_RUN_ATTEMPT)")
        ->type_name("N")
        ->transform(whole_number({1, k_github_id.max}))
        ->group(report_group);
    cmd->add_option("--run-url",
                    opts->run_url,
                    "The run's page (default GITHUB_SERVER_URL/REPOSITORY/actions/runs/RUN_ID, the "
                    "repository from GITHUB_REPOSITORY or the token; none without either)")
        ->type_name("URL")
        ->group(report_group);
    cmd->add_option("--check-run-id",
                    opts->check_run_id,
                    "The job's check run id, ${{ job.check_run_id }} (default RUN_ID-RUN_ATTEMPT)")
        ->type_name("ID")
        ->group(report_group);
    cmd->add_option("--started-at",
                    opts->started_at,
                    "When the job started (default: now for in_progress, none for completed)")
        ->type_name("TIME")
        ->group(report_group);
    auto* counts = cmd->add_option("--test-results",
                                   opts->test_results,
                                   "Test counts: passed=N,failed=N,skipped=N")
                       ->type_name("COUNTS")
                       ->group(report_group);
    cmd->add_option("--junit", opts->junit, "JUnit XML reports to count tests from (summed)")
        ->type_name("FILE")
        ->group(report_group)
        ->excludes(counts);
    cmd->add_option("--artifact-url", opts->artifact_url, "Where the logs and reports are")
        ->type_name("URL")
        ->group(report_group);

    const std::string send_group = "Sending";
    cmd->add_option("--url",
                    opts->url,
                    "The relay's callback endpoint (default CRCR_CALLBACK_URL, then production)")
        ->type_name("URL")
        ->group(send_group);
    cmd->add_option("--token-file",
                    opts->token_file,
                    "File holding the OIDC token (default CRCR_OIDC_TOKEN, then minted in Actions)")
        ->type_name("FILE")
        ->group(send_group);
    cmd->add_flag("--explain-token",
                  opts->explain_token,
                  "Print the token's header and claims (not its signature) and exit")
        ->group(send_group);
    cmd->add_option(
           "--max-time", opts->max_time, "Seconds for all attempts and waits (default 120)")
        ->type_name("SECONDS")
        ->check(real_number(k_seconds))
        ->group(send_group);
    cmd->add_flag("--retry-on-500",
                  opts->retry_on_500,
                  "Retry a 500 too (the relay recorded the step already; see man crcr)")
        ->group(send_group);
    auto* dry_run =
        cmd->add_flag("--dry-run", opts->dry_run, "Print the request (token as ***); send nothing")
            ->group(send_group);
    cmd->add_flag("--json", opts->json, "Print the result as one JSON document")
        ->group(send_group)
        ->excludes(dry_run);
    cmd->footer(R"(Examples:
  # in a job with 'permissions: id-token: write', first and last steps:
  crcr callback --status in_progress
  crcr callback --status completed --conclusion ${{ job.status }} --junit reports/*.xml
  crcr callback --status completed --conclusion success --event-type nightly --sha $SHA

Retries only what the relay rejected before recording anything (429, 503, no answer), with
backoff sized to its 60 s rate-limit window, within --max-time.
Exit status: 0 accepted or ignored (below L2), 1 refused (400), 2 usage or an invalid report,
4 token missing or refused, 5 no answer, 5xx, or still rate limited at --max-time.)");
    cmd->callback([opts, on_parsed = std::move(on_parsed)] { on_parsed(*opts); });
}

ExitCode run_callback(const CallbackOptions& opts, Context& ctx) {
    Json result = Json::object();
    return with_json_result(
        opts.json && !opts.explain_token, result, ctx, [&] { return report(opts, result, ctx); });
}

} // namespace crcr
