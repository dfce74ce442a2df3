#include "replay.hpp"

#include "option_checks.hpp"
#include "secret_options.hpp"

#include "crcr/error.hpp"
#include "crcr/github.hpp"
#include "crcr/github_names.hpp"
#include "crcr/replay.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <cmath>

namespace crcr {

void add_replay(CLI::App& parent, std::function<void(const ReplayOptions&)> on_parsed) {
    auto opts = std::make_shared<ReplayOptions>();
    CLI::App* cmd = parent.add_subcommand(
        "replay", "Send captured deliveries again, to a relay or as repository_dispatch");
    cmd->add_option("CAPTURE",
                    opts->inputs,
                    "Capture files or folders (crcr capture records, GitHub delivery records, "
                    "payloads); - for standard input")
        ->required()
        ->type_name("");
    const std::string target_group = "Target";
    auto* to =
        cmd->add_option("--to",
                        opts->to,
                        "Send each delivery as a webhook to this URL (a relay's /github/webhook)")
            ->type_name("URL")
            ->group(target_group);
    auto* dispatch_to =
        cmd->add_option("--dispatch-to",
                        opts->dispatch_to,
                        "Send each one as the relay's repository_dispatch to this repository")
            ->type_name("OWNER/NAME")
            ->group(target_group);
    to->excludes(dispatch_to);
    cmd->add_option("--event", opts->event, "The event of bare payloads (records carry their own)")
        ->type_name("EVENT")
        ->group(target_group);
    add_secret_options(*cmd, opts->secret, target_group);
    cmd->add_flag("--new-delivery-id",
                  opts->new_delivery_id,
                  "Give each delivery a fresh X-GitHub-Delivery (the relay reports a repeated one "
                  "as failed)")
        ->group(target_group);
    auto* legacy =
        cmd->add_flag(
               "--legacy-signature",
               opts->legacy_signature,
               "Also sign with HMAC-SHA1 in X-Hub-Signature, as GitHub does for old receivers "
               "(the relay reads only X-Hub-Signature-256)")
            ->group(target_group);
    legacy->excludes(dispatch_to);
    add_github_options(*cmd, opts->github);

    const std::string control_group = "Control";
    cmd->add_option("--filter",
                    opts->filters,
                    "Only deliveries with KEY=VALUE: event, action, pr, repo, delivery "
                    "(repeatable, all must match)")
        ->type_name("KEY=VALUE")
        ->group(control_group);
    cmd->add_option("--limit", opts->limit, "Send at most N deliveries")
        ->type_name("N")
        ->transform(whole_number({1, k_any_u64.max}))
        ->group(control_group);
    cmd->add_option(
           "--concurrency",
           opts->concurrency,
           "Deliveries in flight at once, on connections kept alive and reused (default 4)")
        ->type_name("N")
        ->transform(whole_number({1, 256}))
        ->group(control_group);
    cmd->add_option("--rate",
                    opts->rate,
                    "At most this many deliveries a second (default: no limit; dispatches 1)")
        ->type_name("PER_SECOND")
        ->check(real_number(k_per_second))
        ->group(control_group);
    cmd->add_option(
           "--timeout", opts->timeout, "Seconds to wait for each answer (default 10, as GitHub)")
        ->type_name("SECONDS")
        ->check(real_number(k_seconds))
        ->group(control_group);
    cmd->add_option("--retries",
                    opts->retries,
                    "Webhooks: attempts after what the relay cannot have acted on: no connection, "
                    "429, 503 with Retry-After (default 3; dispatches never retry)")
        ->type_name("N")
        ->transform(whole_number({0, 20}))
        ->group(control_group);
    cmd->add_flag("--retry-unsafe",
                  opts->retry_unsafe,
                  "Also retry other 5xx and answers lost after sending. RISK: the relay may have "
                  "dispatched already (it answers 502 to a delivery id it has seen, after "
                  "dispatching it again): each retry can start one more run in every downstream "
                  "repository")
        ->group(control_group);
    cmd->add_flag("--dry-run", opts->dry_run, "List what would be sent, with sizes; send nothing")
        ->group(control_group);

    const std::string record_group = "Records";
    cmd->add_option("--report", opts->report, "Append one JSON line per delivery to FILE")
        ->type_name("FILE")
        ->group(record_group);
    auto* state =
        cmd->add_option(
               "--state",
               opts->state,
               "Make the run resumable: a later run with FILE sends only what was not sent")
            ->type_name("FILE")
            ->group(record_group);
    cmd->add_flag("--resend-failed",
                  opts->resend_failed,
                  "With --state: send again what was rejected, failed or in flight")
        ->needs(state)
        ->group(record_group);
    cmd->footer(R"(Examples:
  CRCR_WEBHOOK_SECRET_FILE=secret.txt crcr replay load.jsonl --to http://127.0.0.1:8080/github/webhook \
      --concurrency 8 --state run.state --report run.jsonl
  crcr replay deliveries/ --filter event=pull_request --filter action=synchronize --dry-run
  crcr replay payload.json --event push --dispatch-to my-org/pytorch-ci

Exit status: 0 all delivered, 1 any rejected (4xx) or unreadable, 2 usage, 4 credentials,
5 any failed (no answer or 5xx; the summary says how many may have been dispatched).)");
    cmd->callback([opts, on_parsed = std::move(on_parsed)] { on_parsed(*opts); });
}

ExitCode run_replay(const ReplayOptions& opts, Context& ctx) {
    if (opts.to.empty() && opts.dispatch_to.empty()) {
        throw Error("replay needs a target: --to URL or --dispatch-to OWNER/NAME", ExitCode::usage);
    }
    ReplaySettings settings{.inputs = opts.inputs,
                            .to = opts.to,
                            .dispatch_to = opts.dispatch_to,
                            .event = opts.event,
                            .new_delivery_id = opts.new_delivery_id,
                            .legacy_signature = opts.legacy_signature,
                            .limit = opts.limit,
                            .concurrency = opts.concurrency,
                            .rate = opts.rate,
                            .timeout = opts.timeout,
                            .retries = opts.retries,
                            .retry_unsafe = opts.retry_unsafe,
                            .max_wait = opts.github.max_wait,
                            .dry_run = opts.dry_run,
                            .report = opts.report,
                            .state = opts.state,
                            .resend_failed = opts.resend_failed};
    for (const std::string& filter : opts.filters) {
        settings.filters.push_back(parse_record_filter(filter));
    }
    if (!opts.dispatch_to.empty()) {
        if (const auto problem = full_name_problem(opts.dispatch_to)) {
            throw Error(fmt::format("--dispatch-to '{}' is not a repository: {}",
                                    opts.dispatch_to,
                                    *problem),
                        ExitCode::usage);
        }
    } else if (!opts.to.starts_with("http://") && !opts.to.starts_with("https://")) {
        throw Error(fmt::format("--to '{}' is not an http:// or https:// URL", redact_url(opts.to)),
                    ExitCode::usage);
    }
    if (!opts.to.empty() && !opts.dry_run) {
        settings.secret = resolve_secret(opts.secret, ctx);
        if (!settings.secret) {
            fmt::print(ctx.err,
                       "crcr: note: no webhook secret (CRCR_WEBHOOK_SECRET_FILE, "
                       "CRCR_WEBHOOK_SECRET or --secret-file): deliveries go unsigned\n");
        }
    }
    std::optional<GitHubApi> api;
    std::optional<GitHubAuth> auth;
    if (!opts.dispatch_to.empty() && !opts.dry_run) {
        GitHubCredentials credentials = require_credentials(opts.github, ctx, "--dispatch-to");
        GitHubWaits waits = github_waits(opts.github, ctx);
        waits.timeout = std::chrono::milliseconds(std::llround(opts.timeout * 1000));
        api.emplace(ctx.http, resolve_api_url(opts.github, ctx), std::move(waits));
        auth.emplace(*api, std::move(credentials));
        settings.api = &*api;
        settings.auth = &*auth;
    }
    return replay(settings, ctx);
}

} // namespace crcr
