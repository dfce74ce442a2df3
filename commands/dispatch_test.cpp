#include "dispatch_test.hpp"

#include "complete.hpp"
#include "json_result.hpp"
#include "option_checks.hpp"

#include "crcr/dispatch.hpp"
#include "crcr/error.hpp"
#include "crcr/github_names.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <cmath>
#include <map>

namespace crcr {

namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

constexpr auto k_start_poll = seconds(5);   // while waiting for the run to appear
constexpr auto k_follow_poll = seconds(15); // while it runs

seconds to_seconds(double value) {
    return seconds(static_cast<long long>(std::llround(value)));
}

std::string duration_text(seconds elapsed) {
    const long long s = elapsed.count();
    if (s < 60) {
        return fmt::format("{} s", s);
    }
    return s % 60 == 0 ? fmt::format("{} min", s / 60) : fmt::format("{} min {} s", s / 60, s % 60);
}

void print_preflight(const Preflight& check, bool force, Context& ctx) {
    if (!check.near_limit() && check.problems.empty()) {
        return;
    }
    fmt::print(ctx.err,
               "crcr: client_payload is {} bytes of JSON ({}% of GitHub's limit of under {}); "
               "largest fields:\n",
               check.bytes,
               check.bytes * 100 / k_client_payload_max_bytes,
               k_client_payload_max_bytes);
    for (const FieldSize& field : check.largest) {
        fmt::print(ctx.err, "  {:>8} B  {}\n", field.bytes, field.path);
    }
    if (check.problems.empty()) {
        return;
    }
    if (!force) {
        throw Error(fmt::format("GitHub would refuse this dispatch (422): {}; --force sends it "
                                "anyway",
                                fmt::join(check.problems, "; ")));
    }
    fmt::print(ctx.err,
               "crcr: warning: sending although GitHub will refuse it (--force): {}\n",
               fmt::join(check.problems, "; "));
}

// What --dry-run answers instead of GitHub: an App installation, a token, and 204.
HttpResponse dry_run_answer(const HttpRequest& request) {
    if (request.url.ends_with("/installation")) {
        return HttpResponse{.status = 200, .reason = "OK", .body = R"({"id":0})"};
    }
    if (request.url.ends_with("/access_tokens")) {
        return HttpResponse{.status = 201, .reason = "Created", .body = R"({"token":"dry-run"})"};
    }
    return HttpResponse{.status = 204, .reason = "No Content"};
}

void print_start_checklist(const DispatchTestOptions& opts, Context& ctx) {
    const std::string& event = opts.payload.shape.event;
    fmt::print(ctx.err,
               "hint: a repository_dispatch runs only workflows that:\n"
               "hint:   - are on the default branch of '{0}' (not on a feature branch)\n"
               "hint:   - have 'on: repository_dispatch: types: [pull_request, push]' including "
               "'{1}' (check with: crcr gen-workflow --check FILE)\n"
               "hint:   - are enabled, in a repository with Actions enabled\n"
               "hint: and the relay's App must be installed on '{0}' with onboarding done (the "
               "repository listed in the allowlist)\n"
               "hint: crcr doctor --repo {0} checks each of these against GitHub\n",
               opts.repo,
               event);
}

// Follows the runs the dispatch started until all are done; nothing when none started within
// --start-timeout. Their list comes from one endpoint polled with conditional requests (a 304
// costs no rate limit).
std::optional<ExitCode> watch_runs(const DispatchTestOptions& opts,
                                   GitHubApi& api,
                                   const std::string& token,
                                   system_clock::time_point since,
                                   const std::string& delivery_id,
                                   Json& result,
                                   Context& ctx) {
    const auto started = ctx.now();
    const auto deadline = started + to_seconds(opts.timeout);
    const auto start_deadline = std::min(deadline, started + to_seconds(opts.start_timeout));
    const std::string path =
        fmt::format("/repos/{}/actions/runs?event=repository_dispatch&created={}&per_page=100",
                    opts.repo,
                    percent_encode(">=" + iso8601(since)));
    std::map<std::uint64_t, WorkflowRun> runs;
    bool progress_shown = false;
    const auto progress = [&](const std::string& line) {
        if (ctx.err_is_terminal) {
            fmt::print(ctx.err, "\r\033[K{}", line);
            progress_shown = true;
        }
    };
    const auto end_progress = [&] {
        if (progress_shown) {
            fmt::print(ctx.err, "\r\033[K");
            progress_shown = false;
        }
    };
    for (;;) {
        const HttpResponse response = api.send(api.request("GET", path, token));
        if (response.status != 200) {
            end_progress();
            throw github_failure(
                fmt::format("listing the workflow runs of '{}'", opts.repo),
                response,
                "--watch needs 'actions: read' (fine-grained token or App) or the 'repo' scope");
        }
        for (const WorkflowRun& run :
             runs_started_by(parse_workflow_runs(response.body), since, delivery_id)) {
            auto [known, inserted] = runs.try_emplace(run.id, run);
            if (inserted || known->second.status != run.status) {
                end_progress();
                fmt::print(ctx.err,
                           "crcr: run {} '{}' {}: {}\n",
                           run.id,
                           run.name,
                           run.status,
                           run.html_url);
            }
            known->second = run;
        }
        const auto now = ctx.now();
        const auto elapsed = std::chrono::duration_cast<seconds>(now - started);
        const bool all_done = !runs.empty() && std::all_of(runs.begin(), runs.end(), [](auto& r) {
            return r.second.status == "completed";
        });
        if (all_done) {
            break;
        }
        if (runs.empty() && now >= start_deadline) {
            end_progress();
            return std::nullopt;
        }
        if (now >= deadline) {
            end_progress();
            throw Error(fmt::format("the run is still going after {} (--timeout); follow it at {}",
                                    duration_text(elapsed),
                                    runs.begin()->second.html_url),
                        ExitCode::unavailable);
        }
        progress(runs.empty()
                     ? fmt::format("waiting for the run to start... {}", duration_text(elapsed))
                     : fmt::format("run {} {}... {}",
                                   runs.begin()->first,
                                   runs.begin()->second.status,
                                   duration_text(elapsed)));
        ctx.sleep(runs.empty() ? k_start_poll : k_follow_poll);
    }
    end_progress();
    ExitCode code = ExitCode::ok;
    for (const auto& [id, run] : runs) {
        result["runs"].push_back({{"id", id},
                                  {"name", run.name},
                                  {"url", run.html_url},
                                  {"status", run.status},
                                  {"conclusion", run.conclusion}});
        if (!opts.json) {
            fmt::print(ctx.out,
                       "run {} '{}' concluded {}: {}\n",
                       id,
                       run.name,
                       run.conclusion,
                       run.html_url);
        }
        if (!conclusion_passes(run.conclusion)) {
            code = ExitCode::failure;
        }
    }
    return code;
}

ExitCode dispatch(const DispatchTestOptions& opts, Json& result, Context& ctx) {
    if (const auto problem = full_name_problem(opts.repo)) {
        throw Error(fmt::format("--repo '{}' is not a repository: {}", opts.repo, *problem),
                    ExitCode::usage);
    }
    Random random(ctx.random_seed());
    PayloadOptions payload_opts = opts.payload;
    if (payload_opts.payload_file.empty() && payload_opts.shape.event == "pull_request"
        && payload_opts.shape.action.empty()) {
        payload_opts.shape.action = "opened";
    }
    const std::string& event_type = payload_opts.shape.event;
    const std::string delivery_id = opts.delivery_id.empty() ? random.uuid_v4() : opts.delivery_id;
    const Json body =
        dispatch_body(event_type, delivery_id, make_payload(payload_opts, random, ctx.now()));
    const Preflight check = preflight_dispatch(body);
    result["delivery_id"] = delivery_id;
    result["client_payload_bytes"] = check.bytes;
    print_preflight(check, opts.force, ctx);

    std::optional<GitHubCredentials> credentials =
        opts.dry_run ? resolve_credentials(opts.github, ctx)
                     : std::optional<GitHubCredentials>(require_credentials(opts.github, ctx));
    if (!credentials) {
        fmt::print(ctx.err,
                   "crcr: note: no GitHub credentials; a real run needs GH_TOKEN, "
                   "--token-file or an App's --app-id and --private-key\n");
        credentials = GitHubCredentials{.token = "none", .token_source = "none"};
    }
    DryRunHttpClient dry_run(ctx.out, dry_run_answer);
    GitHubApi api(opts.dry_run ? static_cast<HttpClient&>(dry_run) : ctx.http,
                  resolve_api_url(opts.github, ctx),
                  github_waits(opts.github, ctx));
    Json permissions = {{"contents", "write"}};
    if (opts.watch) {
        permissions["actions"] = "read";
    }
    GitHubAuth auth(api, std::move(*credentials), permissions);
    const std::string token = auth.token_for(opts.repo);
    HttpResponse accepted;
    try {
        accepted = send_dispatch(api, opts.repo, token, body);
    } catch (const Error& e) {
        if (!opts.watch || e.code() != ExitCode::unavailable) {
            throw;
        }
        // GitHub may have taken the dispatch all the same: look for its run before giving up
        // (never by sending it again).
        fmt::print(ctx.err,
                   "crcr: {}\ncrcr: --watch: looking for a run, in case the dispatch landed\n",
                   e.what());
        if (const auto code =
                watch_runs(opts, api, token, ctx.now() - seconds(30), delivery_id, result, ctx)) {
            return *code;
        }
        throw;
    }
    result["status"] = accepted.status;
    if (opts.dry_run) {
        if (opts.watch) {
            fmt::print(ctx.out,
                       "(--watch would then poll GET {}/repos/{}/actions/runs)\n",
                       api.base_url(),
                       opts.repo);
        }
        return ExitCode::ok;
    }
    if (!opts.json) {
        fmt::print(ctx.out,
                   "dispatched '{}' to '{}' (delivery {}, client_payload {} bytes)\n",
                   event_type,
                   opts.repo,
                   delivery_id,
                   check.bytes);
    }
    if (!opts.watch) {
        return ExitCode::ok;
    }
    // Runs are matched against GitHub's clock (its Date header), not this machine's.
    system_clock::time_point since = ctx.now() - seconds(30);
    if (const auto date = accepted.header("date")) {
        if (const auto github_now = parse_http_date(*date)) {
            since = *github_now - seconds(2);
        }
    }
    if (const auto code = watch_runs(opts, api, token, since, delivery_id, result, ctx)) {
        return *code;
    }
    print_start_checklist(opts, ctx);
    throw Error(fmt::format("no workflow run started in '{}' within {} of the dispatch",
                            opts.repo,
                            duration_text(to_seconds(std::min(opts.start_timeout, opts.timeout)))));
}

} // namespace

void add_dispatch_test(CLI::App& parent,
                       std::function<void(const DispatchTestOptions&)> on_parsed) {
    auto opts = std::make_shared<DispatchTestOptions>();
    opts->payload.shape.event = "pull_request";
    CLI::App* cmd = parent.add_subcommand(
        "dispatch-test",
        "Send the relay's repository_dispatch to a downstream repository and watch the run it "
        "starts");
    cmd->add_option("--repo", opts->repo, "The downstream repository to dispatch to")
        ->type_name("OWNER/NAME")
        ->required();
    const std::string shape_group = "Payload shape";
    cmd->add_option(
           "--event", opts->payload.shape.event, "The event type: pull_request (default) or push")
        ->type_name("EVENT")
        ->check(CLI::IsMember({"pull_request", "push"}))
        ->group(shape_group);
    CLI::Option* action =
        cmd->add_option("--action",
                        opts->payload.shape.action,
                        "pull_request action (default opened): reopened, synchronize, closed, ...")
            ->check(completion_values(pull_request_actions()))
            ->type_name("ACTION")
            ->group(shape_group);
    add_payload_options(*cmd, opts->payload, "--upstream-repo");
    cmd->get_option("--payload")->excludes(action);
    cmd->add_option("--delivery-id",
                    opts->delivery_id,
                    "client_payload.delivery_id (default: a fresh UUID v4)")
        ->type_name("ID")
        ->group(shape_group);
    cmd->add_flag("--force", opts->force, "Send even when GitHub's limits will refuse the payload")
        ->group(shape_group);

    add_github_options(*cmd, opts->github);

    const std::string output_group = "Output";
    CLI::Option* watch =
        cmd->add_flag("--watch",
                      opts->watch,
                      "Find the run the dispatch starts, follow it, exit by its conclusion")
            ->group(output_group);
    cmd->add_option("--timeout", opts->timeout, "With --watch: seconds to follow it (default 3600)")
        ->type_name("SECONDS")
        ->check(real_number(k_seconds))
        ->group(output_group)
        ->needs(watch);
    cmd->add_option("--start-timeout",
                    opts->start_timeout,
                    "With --watch: seconds for a run to appear (default 120)")
        ->type_name("SECONDS")
        ->check(real_number(k_seconds))
        ->group(output_group)
        ->needs(watch);
    CLI::Option* dry_run =
        cmd->add_flag("--dry-run",
                      opts->dry_run,
                      "Print every request that would be sent (credentials as ***); send nothing")
            ->group(output_group);
    cmd->add_flag("--json", opts->json, "Print the result as one JSON document")
        ->group(output_group)
        ->excludes(dry_run);
    cmd->footer(R"(Examples:
  GH_TOKEN=$(cat token.txt) crcr dispatch-test --repo my-org/pytorch-ci --watch
  crcr dispatch-test --repo my-org/pytorch-ci --app-id 123456 --private-key app.pem \
      --event pull_request --action labeled --label ciflow/crcr/my-device
  crcr dispatch-test --repo my-org/pytorch-ci --payload captured.json --dry-run

The body is the relay's: {"event_type", "client_payload": {"event_type", "delivery_id",
"payload"}}. 5xx answers are never retried: GitHub may have started the run already
(with --watch, crcr looks for that run).
Exit status: 0 dispatched (--watch: the runs passed), 1 refused or a run failed, 2 usage,
4 credentials missing or without 'contents: write', 5 no answer, 5xx, rate limit beyond
--max-wait, or still running at --timeout.)");
    cmd->callback([opts, on_parsed = std::move(on_parsed)] { on_parsed(*opts); });
}

ExitCode run_dispatch_test(const DispatchTestOptions& opts, Context& ctx) {
    Json result = {{"repo", opts.repo}, {"event_type", opts.payload.shape.event}};
    return with_json_result(opts.json, result, ctx, [&] { return dispatch(opts, result, ctx); });
}

} // namespace crcr
