#include "doctor.hpp"

#include "json_result.hpp"

#include "crcr/doctor.hpp"
#include "crcr/error.hpp"
#include "crcr/files.hpp"
#include "crcr/github_names.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <array>

namespace crcr {

namespace {

Json report_json(const DoctorReport& report) {
    Json checks = Json::array();
    for (const DoctorCheck& check : report.checks) {
        checks.push_back({{"id", check.id},
                          {"title", check.title},
                          {"status", to_string(check.status)},
                          {"summary", check.summary},
                          {"details", check.details},
                          {"fix", check.fix}});
    }
    return Json{{"checks", checks}, {"requests", report.requests}};
}

void print_report(const DoctorReport& report, Context& ctx) {
    std::array<std::size_t, 3> counts{};
    for (const DoctorCheck& check : report.checks) {
        ++counts.at(static_cast<std::size_t>(check.status));
        fmt::print(ctx.out, "{:<8} {}: {}\n", to_string(check.status), check.title, check.summary);
        for (const std::string& detail : check.details) {
            fmt::print(ctx.out, "         {}\n", detail);
        }
        if (!check.fix.empty()) {
            fmt::print(ctx.out, "         fix: {}\n", check.fix);
        }
    }
    fmt::print(ctx.out,
               "{}: {} passed, {} failed, {} unknown\n",
               report.repo,
               counts[0],
               counts[1],
               counts[2]);
}

// A token to read with besides App credentials (the App's JWT reads nothing but the App's own
// data, and minting an installation token is a POST).
std::string reading_token(Context& ctx, std::string& source) {
    for (const std::string_view name : {"GH_TOKEN", "GITHUB_TOKEN"}) {
        if (const auto token = ctx.env.get(name); token && !token->empty()) {
            source = std::string(name);
            return *token;
        }
    }
    return "";
}

ExitCode doctor(const DoctorOptions& opts, Json& result, Context& ctx) {
    const std::pair<std::string_view, const std::string&> names[] = {{"--repo", opts.repo},
                                                                     {"--upstream", opts.upstream}};
    for (const auto& [option, value] : names) {
        if (const auto problem = full_name_problem(value)) {
            throw Error(fmt::format("{} '{}' is not a repository: {}", option, value, *problem),
                        ExitCode::usage);
        }
    }
    DoctorInput input{.repo = opts.repo,
                      .upstream = opts.upstream,
                      .allowlist_path = opts.allowlist_path,
                      .app_slug = opts.app_slug};
    if (!opts.allowlist_file.empty()) {
        input.allowlist_text = read_file(opts.allowlist_file, 16U << 20U);
        input.allowlist_name = opts.allowlist_file;
    }
    if (const std::optional<GitHubCredentials> credentials =
            resolve_credentials(opts.github, ctx)) {
        if (credentials->is_app()) {
            input.app_jwt = make_app_jwt(*credentials->private_key, credentials->app_id, ctx.now());
            input.token = reading_token(ctx, input.token_source);
        } else {
            input.token = credentials->token;
            input.token_source = credentials->token_source;
        }
    }
    const std::string api_url = resolve_api_url(opts.github, ctx);
    if (opts.dry_run) {
        for (const std::string& line : doctor_requests(input, api_url)) {
            fmt::print(ctx.out, "{}\n", line);
        }
        fmt::print(ctx.out,
                   "(at most {} GET requests{})\n",
                   doctor_max_requests(),
                   input.token.empty() ? ", without a token" : ", with Authorization: Bearer ***");
        return ExitCode::ok;
    }
    TracingHttpClient traced(ctx.http, ctx.err);
    GitHubApi api(opts.verbose ? static_cast<HttpClient&>(traced) : ctx.http,
                  api_url,
                  github_waits(opts.github, ctx));
    const DoctorReport report = diagnose(api, input);
    result.update(report_json(report));
    result["repo"] = report.repo;
    if (opts.verbose) {
        fmt::print(ctx.err,
                   "crcr: {} requests to GitHub, all GET (at most {})\n",
                   report.requests,
                   doctor_max_requests());
    }
    if (!opts.json) {
        print_report(report, ctx);
    }
    return report.failed() ? ExitCode::failure : ExitCode::ok;
}

} // namespace

void add_doctor(CLI::App& parent, std::function<void(const DoctorOptions&)> on_parsed) {
    auto opts = std::make_shared<DoctorOptions>();
    opts->upstream = std::string(k_default_upstream);
    opts->allowlist_path = std::string(k_default_allowlist_path);
    opts->app_slug = std::string(k_relay_app_slug);
    CLI::App* cmd = parent.add_subcommand(
        "doctor",
        "Check a downstream repository's wiring to the relay against GitHub, read-only: "
        "onboarding, the App, the workflow, Actions, recent dispatches, callbacks");
    cmd->add_option("--repo", opts->repo, "The downstream repository to check")
        ->type_name("OWNER/NAME")
        ->required();
    const std::string group = "Relay";
    cmd->add_option(
           "--upstream", opts->upstream, "The upstream repository (default pytorch/pytorch)")
        ->type_name("OWNER/NAME")
        ->group(group);
    CLI::Option* path = cmd->add_option("--allowlist-path",
                                        opts->allowlist_path,
                                        "The allowlist in the upstream, read from its default "
                                        "branch (default .github/allowlist.yml)")
                            ->type_name("PATH")
                            ->group(group);
    cmd->add_option("--allowlist",
                    opts->allowlist_file,
                    "Read the allowlist from this file instead of the upstream")
        ->type_name("FILE")
        ->group(group)
        ->excludes(path);
    cmd->add_option("--app-slug",
                    opts->app_slug,
                    "The relay's GitHub App (default pytorch-fdn-cross-repo-ci-relay)")
        ->type_name("SLUG")
        ->group(group);

    add_github_options(*cmd, opts->github);

    const std::string output_group = "Output";
    CLI::Option* dry_run =
        cmd->add_flag("--dry-run", opts->dry_run, "List the GET requests it may send; send nothing")
            ->group(output_group);
    cmd->add_flag("--json", opts->json, "Print the report as one JSON document")
        ->group(output_group)
        ->excludes(dry_run);
    cmd->add_flag("-v,--verbose",
                  opts->verbose,
                  "Trace each request on stderr and print how many were sent")
        ->group(output_group);
    cmd->footer(R"(Examples:
  GH_TOKEN=$(cat token.txt) crcr doctor --repo my-org/pytorch-ci   # after onboarding
  crcr doctor --repo my-org/pytorch-ci --allowlist .github/allowlist.yml --dry-run

Each check prints passed, failed or unknown (what it could not see, and why), with the fix:
onboarding in the allowlist, the App installed, a repository_dispatch workflow on the default
branch passing 'crcr gen-workflow --check', Actions enabled, repository_dispatch runs in the
last 24 h, callbacks and oncalls at L2 and above. Only GET requests, a bounded number.
Exit status: 0 nothing failed, 1 a check failed or the repository was not found, 2 usage,
4 the token was refused, 5 GitHub could not be reached.)");
    cmd->callback([opts, on_parsed = std::move(on_parsed)] { on_parsed(*opts); });
}

ExitCode run_doctor(const DoctorOptions& opts, Context& ctx) {
    Json result = {{"repo", opts.repo}};
    return with_json_result(opts.json, result, ctx, [&] { return doctor(opts, result, ctx); });
}

} // namespace crcr
