#include "deliveries.hpp"

#include "complete.hpp"
#include "option_checks.hpp"

#include "crcr/deliveries.hpp"
#include "crcr/error.hpp"
#include "crcr/files.hpp"
#include "crcr/github_names.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <iterator>
#include <memory>

namespace crcr {

namespace {

using std::chrono::system_clock;

// GitHub keeps a hook's deliveries, and lets them be redelivered, for 3 days.
constexpr auto k_log_window = std::chrono::hours(72);
// How far before the end of the last complete run the next one looks again: GitHub may list a
// delivery a little after its delivered_at.
constexpr auto k_state_overlap = std::chrono::minutes(10);

// `text` on one line, without control characters (it came from GitHub or the relay).
std::string clean(std::string_view text) {
    std::string out;
    for (const char c : text) {
        out += static_cast<unsigned char>(c) < 0x20 || c == 0x7F ? ' ' : c;
    }
    return out;
}

std::string event_action(const DeliverySummary& d) {
    return d.action.empty() ? clean(d.event) : clean(d.event + "." + d.action);
}

Json summary_json(const DeliverySummary& d) {
    return Json{{"id", d.id},
                {"guid", d.guid},
                {"delivered_at", iso8601(d.delivered_at)},
                {"redelivery", d.redelivery},
                {"duration", d.duration},
                {"status", d.status},
                {"status_code", d.status_code},
                {"event", d.event},
                {"action", d.action.empty() ? Json() : Json(d.action)}};
}

HookTarget hook_of(const DeliveriesSelection& sel) {
    HookTarget hook;
    if (!sel.repo.empty()) {
        if (const auto problem = full_name_problem(sel.repo)) {
            throw Error(fmt::format("--repo '{}' is not a repository: {}", sel.repo, *problem),
                        ExitCode::usage);
        }
        hook = {HookTarget::Kind::repo, sel.repo, sel.hook_id};
    } else if (!sel.org.empty()) {
        if (const auto problem = owner_name_problem(sel.org)) {
            throw Error(fmt::format("--org '{}' is not an organization: {}", sel.org, *problem),
                        ExitCode::usage);
        }
        hook = {HookTarget::Kind::org, sel.org, sel.hook_id};
    } else if (sel.hook_id != 0) {
        throw Error("--hook-id needs --repo or --org (the App's own hook has no id to give)",
                    ExitCode::usage);
    }
    if (hook.kind != HookTarget::Kind::app && hook.hook_id == 0) {
        throw Error(
            fmt::format("--{} needs --hook-id (the hook's id, from its settings page URL "
                        "or GET {}/hooks)",
                        hook.kind == HookTarget::Kind::repo ? "repo" : "org",
                        hook.kind == HookTarget::Kind::repo ? "/repos/OWNER/NAME" : "/orgs/ORG"),
            ExitCode::usage);
    }
    return hook;
}

DeliveryFilter filter_of(const DeliveriesSelection& sel) {
    return DeliveryFilter{
        .failed = sel.failed, .event = sel.event, .action = sel.action, .guid = sel.guid};
}

// The API client, credentials and bearer token for the selected hook.
class Session {
public:
    Session(const DeliveriesSelection& sel, bool write, Context& ctx)
        : hook(hook_of(sel)),
          m_api(ctx.http, resolve_api_url(sel.github, ctx), github_waits(sel.github, ctx)) {
        std::optional<GitHubCredentials> found = resolve_credentials(sel.github, ctx);
        if (!found && hook.kind == HookTarget::Kind::app) {
            throw Error("no GitHub App credentials: the App's webhook log needs the App's "
                        "--app-id and --private-key (CRCR_APP_ID, CRCR_APP_PRIVATE_KEY_FILE)",
                        ExitCode::auth);
        }
        GitHubCredentials credentials = require_credentials(std::move(found));
        if (hook.kind == HookTarget::Kind::app && !credentials.is_app()) {
            throw Error(fmt::format("the App's webhook log answers only the App's own JWT, not a "
                                    "token ({}): give --app-id and --private-key, or --repo/--org "
                                    "with --hook-id for another hook",
                                    credentials.token_source),
                        ExitCode::auth);
        }
        if (hook.kind == HookTarget::Kind::org && credentials.is_app()) {
            throw Error("an organization hook's log needs an organization owner's token "
                        "(admin:org_hook) in GH_TOKEN or --token-file, not App credentials",
                        ExitCode::usage);
        }
        // For a repository's hook, an App acts through an installation token limited to it.
        m_auth = std::make_unique<GitHubAuth>(
            m_api, std::move(credentials), Json{{"repository_hooks", write ? "write" : "read"}});
    }

    GitHubApi& api() { return m_api; }
    const GitHubCredentials& credentials() const { return m_auth->credentials(); }

    std::string bearer() {
        if (hook.kind == HookTarget::Kind::app) {
            return make_app_jwt(*credentials().private_key, credentials().app_id, m_api.now());
        }
        return m_auth->token_for(hook.owner); // a token as it is, or the App's installation's
    }

    DeliveriesClient client() {
        return DeliveriesClient{m_api, [this] { return bearer(); }, hook, &credentials()};
    }

    std::vector<DeliverySummary> list(system_clock::time_point since, Context& ctx) {
        bool progress = false;
        const auto on_page = [&](std::size_t count) {
            if (ctx.err_is_terminal) {
                fmt::print(ctx.err, "\r\033[Klisting deliveries... {}", count);
                progress = true;
            }
        };
        std::vector<DeliverySummary> out;
        try {
            out = list_deliveries(client(), since, on_page);
        } catch (const Error&) {
            end_progress(progress, ctx);
            throw;
        }
        end_progress(progress, ctx);
        return out;
    }

    DeliveryRecord get(std::uint64_t id) { return get_delivery(client(), id); }

    const HookTarget hook;

private:
    static void end_progress(bool shown, Context& ctx) {
        if (shown) {
            fmt::print(ctx.err, "\r\033[K");
        }
    }

    GitHubApi m_api;
    std::unique_ptr<GitHubAuth> m_auth; // owns the credentials
};

system_clock::time_point since_of(const DeliveriesSelection& sel, Context& ctx) {
    return sel.since.empty() ? ctx.now() - k_log_window : parse_since(sel.since, ctx.now());
}

std::vector<DeliverySummary> selected(const std::vector<DeliverySummary>& all,
                                      const DeliveryFilter& filter) {
    std::vector<DeliverySummary> out;
    std::copy_if(all.begin(), all.end(), std::back_inserter(out), [&](const DeliverySummary& d) {
        return filter.matches(d);
    });
    return out;
}

void add_selection(CLI::App& cmd, DeliveriesSelection& sel, bool filters) {
    const std::string hook_group = "Hook (default: the GitHub App's own)";
    CLI::Option* repo = cmd.add_option("--repo", sel.repo, "A repository's webhook, with --hook-id")
                            ->type_name("OWNER/NAME")
                            ->group(hook_group);
    CLI::Option* org = cmd.add_option("--org", sel.org, "An organization's webhook, with --hook-id")
                           ->type_name("ORG")
                           ->group(hook_group);
    repo->excludes(org);
    cmd.add_option("--hook-id", sel.hook_id, "The repository's or organization's hook id")
        ->type_name("ID")
        ->transform(whole_number(k_github_id))
        ->group(hook_group);
    if (filters) {
        const std::string group = "Selection";
        cmd.add_option("--since",
                       sel.since,
                       "Only deliveries from TIME (2026-12-06T10:00:00Z) or DURATION ago (90m, "
                       "3h, 2d); default 3 days, all GitHub keeps")
            ->type_name("TIME|DURATION")
            ->group(group);
        cmd.add_flag(
               "--failed", sel.failed, "Only failed attempts (status not OK, timeouts included)")
            ->group(group);
        cmd.add_option("--event", sel.event, "Only this event (pull_request, push, ...)")
            ->type_name("EVENT")
            ->group(group);
        cmd.add_option("--action", sel.action, "Only this action (opened, synchronize, ...)")
            ->check(completion_values(pull_request_actions()))
            ->type_name("ACTION")
            ->group(group);
        cmd.add_option("--guid", sel.guid, "Only this event's attempts (X-GitHub-Delivery)")
            ->type_name("GUID")
            ->group(group);
    }
    add_github_options(cmd, sel.github);
}

void print_table(const std::vector<DeliverySummary>& list, Context& ctx) {
    fmt::print(ctx.out,
               "{:<20}  {:<12}  {:<36}  {:<24}  {:>4}  {:>8}  {:<10}  {}\n",
               "DELIVERED",
               "ID",
               "GUID",
               "EVENT",
               "CODE",
               "DURATION",
               "REDELIVERY",
               "STATUS");
    for (const DeliverySummary& d : list) {
        fmt::print(ctx.out,
                   "{:<20}  {:<12}  {:<36}  {:<24}  {:>4}  {:>7.2f}s  {:<10}  {}\n",
                   iso8601(d.delivered_at),
                   d.id,
                   clean(d.guid),
                   event_action(d),
                   d.status_code,
                   d.duration,
                   d.redelivery ? "yes" : "no",
                   clean(d.status));
    }
}

// Whether a recorded header's value is withheld: credentials, and the webhook signatures, with
// which anyone could send the same delivery to the relay again (replay signs again anyway).
bool withheld_header(std::string_view name) {
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return is_secret_header(name) || lower.starts_with("x-hub-signature");
}

// GitHub's record with withheld headers as "***" and credentials out of its URL.
Json redacted_record(const DeliveryRecord& record) {
    Json out = Json::parse(record.text, nullptr, false);
    for (const char* side : {"request", "response"}) {
        if (out.contains(side) && out[side].is_object() && out[side].contains("headers")
            && out[side]["headers"].is_object()) {
            Json& headers = out[side]["headers"];
            for (auto it = headers.begin(); it != headers.end(); ++it) {
                if (withheld_header(it.key())) {
                    *it = "***";
                }
            }
        }
    }
    if (out.contains("url") && out["url"].is_string()) {
        out["url"] = redact_url(out["url"].get<std::string>());
    }
    return out;
}

void print_headers(const Json& headers, Context& ctx) {
    if (!headers.is_object()) {
        return;
    }
    for (const auto& [name, value] : headers.items()) {
        fmt::print(ctx.out,
                   "  {}: {}\n",
                   clean(name),
                   clean(value.is_string() ? value.get<std::string>() : value.dump()));
    }
}

std::uint64_t delivery_id_of(const std::string& text) {
    std::uint64_t id = 0;
    for (const char c : text) {
        if (c < '0' || c > '9' || id > (std::uint64_t{1} << 62U) / 10) {
            return 0;
        }
        id = id * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return id;
}

// A file name for a delivery's record in a --output folder.
std::string record_file_name(const DeliverySummary& d) {
    std::string time = iso8601(d.delivered_at);
    std::replace(time.begin(), time.end(), ':', '-');
    return fmt::format("{}-{}.json", time, d.id);
}

} // namespace

void add_deliveries(CLI::App& parent,
                    std::function<void(const DeliveriesListOptions&)> on_list,
                    std::function<void(const DeliveriesShowOptions&)> on_show,
                    std::function<void(const DeliveriesPullOptions&)> on_pull,
                    std::function<void(const DeliveriesRedeliverOptions&)> on_redeliver) {
    CLI::App* deliveries = parent.add_subcommand(
        "deliveries",
        "GitHub's log of webhook deliveries to the relay: list, show, pull and redeliver the "
        "failed ones after an outage");
    deliveries->require_subcommand(1);
    deliveries->footer(R"(Examples: recovering after an outage of the relay
  crcr deliveries list --failed --since 6h
  crcr deliveries redeliver --since 6h --dry-run --explain
  crcr deliveries redeliver --since 6h --state redeliver.state

GitHub never redelivers a failed delivery by itself, and keeps them for 3 days. Credentials:
the App's own hook needs --app-id and --private-key (CRCR_APP_ID,
CRCR_APP_PRIVATE_KEY_FILE); --repo/--org with --hook-id read a repository's or an
organization's hook with a token (admin:repo_hook, admin:org_hook).)");

    auto list_opts = std::make_shared<DeliveriesListOptions>();
    CLI::App* list = deliveries->add_subcommand("list", "List a hook's deliveries, newest first");
    add_selection(*list, list_opts->selection, true);
    list->add_flag("--json", list_opts->json, "Print a JSON array of GitHub's entries")
        ->group("Output");
    list->footer(R"(Examples:
  crcr deliveries list --failed --since 3h
  crcr deliveries list --repo my-org/relay-test --hook-id 123 --event pull_request --json

Columns: delivery time, id, GUID (X-GitHub-Delivery, shared by every attempt of an event),
event.action, the status code (0: no HTTP answer, timeouts included), duration,
whether the attempt is a redelivery, and GitHub's status text.
Exit status: 0 listed, 1 refused, 2 usage, 4 credentials refused, 5 GitHub unreachable.)");
    list->callback([list_opts, on_list = std::move(on_list)] { on_list(*list_opts); });

    auto show_opts = std::make_shared<DeliveriesShowOptions>();
    CLI::App* show = deliveries->add_subcommand(
        "show", "Show one delivery: the request GitHub sent and the relay's answer");
    show->add_option("delivery", show_opts->delivery, "A delivery id, or an event's GUID")
        ->type_name("ID|GUID")
        ->required();
    add_selection(*show, show_opts->selection, false);
    show->add_option("--since",
                     show_opts->selection.since,
                     "With a GUID: how far back to look for it (default 3 days)")
        ->type_name("TIME|DURATION");
    show->add_flag("--json", show_opts->json, "Print GitHub's record (signatures as ***)")
        ->group("Output");
    show->footer(R"(Examples:
  crcr deliveries show 12345678901
  crcr deliveries show 0b989ba4-242f-11e5-81e1-c7b6966d2516 --json

A GUID shows its newest attempt. Signature headers print as ***.)");
    show->callback([show_opts, on_show = std::move(on_show)] { on_show(*show_opts); });

    auto pull_opts = std::make_shared<DeliveriesPullOptions>();
    CLI::App* pull = deliveries->add_subcommand(
        "pull", "Write the selected deliveries' records for 'crcr replay'");
    add_selection(*pull, pull_opts->selection, true);
    pull->add_option("-o,--output",
                     pull_opts->output,
                     "A JSON Lines file, or a folder (ending in /, or existing) with one file a "
                     "delivery")
        ->type_name("FILE|DIR")
        ->required()
        ->group("Output");
    pull->add_flag("--force", pull_opts->force, "Overwrite existing files")->group("Output");
    pull->footer(R"(Examples:
  crcr deliveries pull --failed --since 6h --output outage.jsonl
  crcr replay outage.jsonl --to http://127.0.0.1:8080/github/webhook --new-delivery-id

Records are GitHub's own (GET .../deliveries/{id}): its headers and the payload, signature
headers as *** (replay signs again with the secret).)");
    pull->callback([pull_opts, on_pull = std::move(on_pull)] { on_pull(*pull_opts); });

    auto re_opts = std::make_shared<DeliveriesRedeliverOptions>();
    CLI::App* re = deliveries->add_subcommand(
        "redeliver",
        "Ask GitHub to redeliver the failures the relay cannot have dispatched, oldest first");
    add_selection(*re, re_opts->selection, true);
    const std::string group = "Redelivery";
    CLI::Option* dry_run =
        re->add_flag("--dry-run",
                     re_opts->dry_run,
                     "Print what would be redelivered and the requests; send no POST")
            ->group(group);
    re->add_option(
          "--max", re_opts->max, "Refuse to redeliver more than N without --force (default 50)")
        ->type_name("N")
        ->transform(whole_number({1, 100'000}))
        ->group(group);
    re->add_flag("--force",
                 re_opts->force,
                 "Also redeliver what the relay may have dispatched (CI runs twice), and more "
                 "than --max")
        ->group(group);
    re->add_option("--rate", re_opts->rate, "Redeliveries a second (default 1)")
        ->type_name("PER_SECOND")
        ->check(real_number({0.001, 10}))
        ->group(group);
    re->add_option("--state",
                   re_opts->state,
                   "Keep what was redelivered and where the run stopped in FILE: each failure "
                   "once across runs, resumed after a crash")
        ->type_name("FILE")
        ->group(group)
        ->excludes(dry_run);
    re->add_flag("--explain", re_opts->explain, "Print the reasoning for every delivery")
        ->group(group);
    re->add_flag("--json", re_opts->json, "Print the outcome as one JSON document")->group(group);
    re->footer(R"(Examples:
  crcr deliveries redeliver --since 6h --dry-run --explain
  crcr deliveries redeliver --state /var/lib/crcr/redeliver.state      # from cron

A redelivery carries the original GUID, and the relay dispatches it again to every
repository before refusing the GUID it saw (answering 502): downstream CI would run twice.
So a failure is redelivered only when its recorded answer proves the relay did not
dispatch it: no connection, a 4xx, or a 5xx from its front end. Timeouts, a relay 5xx
that lists repositories under "failed", and answers after GitHub's 10 s are held back
and reported; --force redelivers them too. An event already delivered OK, or already
redelivered (--state), is skipped. With --state and no --since, a run looks back to
where the last complete run ended.
Exit status: 0 done, 1 something held back or refused, 2 usage, 4 credentials refused,
5 GitHub unreachable (what it may have taken is checked on the next run).)");
    re->callback([re_opts, on_redeliver = std::move(on_redeliver)] { on_redeliver(*re_opts); });
}

ExitCode run_deliveries_list(const DeliveriesListOptions& opts, Context& ctx) {
    const system_clock::time_point since = since_of(opts.selection, ctx);
    Session session(opts.selection, false, ctx);
    const std::vector<DeliverySummary> list =
        selected(session.list(since, ctx), filter_of(opts.selection));
    if (opts.json) {
        Json out = Json::array();
        for (const DeliverySummary& d : list) {
            out.push_back(summary_json(d));
        }
        fmt::print(ctx.out, "{}\n", out.dump(2));
    } else {
        print_table(list, ctx);
    }
    return ExitCode::ok;
}

ExitCode run_deliveries_show(const DeliveriesShowOptions& opts, Context& ctx) {
    const system_clock::time_point since = since_of(opts.selection, ctx);
    Session session(opts.selection, false, ctx);
    std::uint64_t id = delivery_id_of(opts.delivery);
    if (id == 0) {
        std::vector<DeliverySummary> attempts =
            selected(session.list(since_of(opts.selection, ctx), ctx), {.guid = opts.delivery});
        if (attempts.empty()) {
            throw Error(fmt::format("no delivery with GUID '{}' in the hook's log since {}",
                                    clean(opts.delivery),
                                    iso8601(since)));
        }
        if (attempts.size() > 1) {
            fmt::print(ctx.err,
                       "crcr: '{}' has {} attempts; showing the newest (the others: crcr "
                       "deliveries list --guid {})\n",
                       clean(opts.delivery),
                       attempts.size(),
                       clean(opts.delivery));
        }
        id = attempts.front().id;
    }
    const DeliveryRecord record = session.get(id);
    const Json redacted = redacted_record(record);
    if (opts.json) {
        fmt::print(ctx.out, "{}\n", redacted.dump(2));
        return ExitCode::ok;
    }
    const DeliverySummary& d = record.summary;
    fmt::print(ctx.out,
               "delivery {} of {} ({}) at {}{}\nto {}\nstatus {} {} after {:.2f} s\n\nrequest "
               "headers:\n",
               d.id,
               clean(d.guid),
               event_action(d),
               iso8601(d.delivered_at),
               d.redelivery ? ", a redelivery" : "",
               clean(redact_url(record.url)),
               d.status_code,
               clean(d.status),
               d.duration);
    print_headers(redacted["request"].value("headers", Json()), ctx);
    fmt::print(ctx.out,
               "request payload: {}\n\nresponse headers:\n",
               record.request_payload.is_null()
                   ? std::string("none")
                   : fmt::format("{} bytes of JSON", record.request_payload.dump().size()));
    print_headers(redacted["response"].value("headers", Json()), ctx);
    fmt::print(ctx.out,
               "response body:\n{}\n",
               record.response_body ? Json(*record.response_body).dump() : "none");
    if (!record.summary.ok()) {
        const AttemptReading reading = read_attempt(record.summary, record.response_body);
        fmt::print(ctx.out,
                   "\n{}: {}\n",
                   reading.dispatched == Dispatched::no ? "safe to redeliver"
                                                        : "the relay may have dispatched it",
                   reading.why);
    }
    return ExitCode::ok;
}

ExitCode run_deliveries_pull(const DeliveriesPullOptions& opts, Context& ctx) {
    const system_clock::time_point since = since_of(opts.selection, ctx);
    Session session(opts.selection, false, ctx);
    const std::vector<DeliverySummary> list =
        selected(session.list(since, ctx), filter_of(opts.selection));
    const bool folder = opts.output.ends_with('/') || std::filesystem::is_directory(opts.output);
    std::unique_ptr<AtomicFileWriter> file;
    if (folder) {
        make_directories(opts.output);
    } else {
        file = std::make_unique<AtomicFileWriter>(opts.output, opts.force);
    }
    std::size_t done = 0;
    // Oldest first, as they happened: replay sends them in this order.
    for (auto it = list.rbegin(); it != list.rend(); ++it) {
        if (ctx.err_is_terminal) {
            fmt::print(ctx.err, "\r\033[Kreading delivery records... {}/{}", done, list.size());
        }
        const DeliveryRecord record = session.get(it->id);
        const std::string line = redacted_record(record).dump();
        if (folder) {
            write_file_atomically(
                (std::filesystem::path(opts.output) / record_file_name(*it)).string(),
                line + "\n",
                opts.force);
        } else {
            file->write(line + "\n");
        }
        ++done;
    }
    if (ctx.err_is_terminal) {
        fmt::print(ctx.err, "\r\033[K");
    }
    if (file) {
        file->commit();
    }
    fmt::print(
        ctx.out, "wrote {} delivery record{} to '{}'\n", done, done == 1 ? "" : "s", opts.output);
    return ExitCode::ok;
}

ExitCode run_deliveries_redeliver(const DeliveriesRedeliverOptions& opts, Context& ctx) {
    system_clock::time_point since = since_of(opts.selection, ctx);
    RedeliveryState state;
    if (!opts.state.empty()) {
        state = parse_redelivery_state(read_complete_lines(opts.state), opts.state);
    }
    Session session(opts.selection, true, ctx);
    if (opts.selection.since.empty() && state.checked_until) {
        since = std::max(since, *state.checked_until - k_state_overlap);
    }
    const system_clock::time_point started = ctx.now();
    const std::vector<DeliverySummary> all = session.list(since, ctx);
    const std::vector<RedeliveryDecision> decisions =
        decide_redeliveries(all, filter_of(opts.selection), state, [&](std::uint64_t id) {
            return session.get(id).response_body;
        });

    Json result = {{"dry_run", opts.dry_run},
                   {"redelivered", Json::array()},
                   {"held_back", Json::array()},
                   {"skipped", Json::array()}};
    std::vector<const RedeliveryDecision*> to_send;
    std::size_t held = 0;
    for (const RedeliveryDecision& d : decisions) {
        const bool send =
            d.kind == RedeliveryDecision::Kind::redeliver
            || (d.kind == RedeliveryDecision::Kind::may_have_dispatched && opts.force);
        const char* label = send                                       ? "redeliver"
                            : d.kind == RedeliveryDecision::Kind::done ? "skip"
                                                                       : "hold back";
        if (send) {
            to_send.push_back(&d);
        } else if (d.kind == RedeliveryDecision::Kind::done) {
            result["skipped"].push_back({{"guid", d.guid}, {"id", d.id}, {"reason", d.reason}});
        } else {
            ++held;
            result["held_back"].push_back({{"guid", d.guid}, {"id", d.id}, {"reason", d.reason}});
        }
        if (!opts.json) {
            fmt::print(ctx.out,
                       "{:<9}  {}  {}  (delivery {} at {}): {}{}\n",
                       label,
                       clean(d.guid),
                       event_action(d.newest),
                       d.id,
                       iso8601(d.newest.delivered_at),
                       d.reason,
                       d.kind == RedeliveryDecision::Kind::may_have_dispatched && !opts.force
                           ? "; --force redelivers it"
                           : "");
            if (opts.explain) {
                for (const std::string& line : d.details) {
                    fmt::print(ctx.out, "    {}\n", line);
                }
            }
        }
    }
    if (to_send.size() > opts.max && !opts.force) {
        throw Error(fmt::format("{} deliveries to redeliver, more than --max {}: check them with "
                                "--dry-run, then raise --max or add --force",
                                to_send.size(),
                                opts.max));
    }
    const auto dry_answer = [](const HttpRequest&) {
        return HttpResponse{.status = 202, .reason = "Accepted", .body = "{}"};
    };
    DryRunHttpClient dry_client(ctx.out, dry_answer);
    GitHubApi dry_api(dry_client, session.api().base_url(), GitHubWaits{.now = ctx.now});
    GitHubApi& poster = opts.dry_run ? dry_api : session.api();
    std::unique_ptr<AppendFile> log;
    if (!opts.state.empty()) {
        log = std::make_unique<AppendFile>(opts.state);
    }
    const auto pause = std::chrono::milliseconds(std::llround(1000.0 / opts.rate));
    std::size_t refused = 0;
    std::vector<std::string> sent;
    for (std::size_t i = 0; i < to_send.size(); ++i) {
        const RedeliveryDecision& d = *to_send[i];
        if (i > 0) {
            ctx.sleep(pause);
        }
        if (log) {
            log->append(RedeliveryState::posting_line(d.guid, d.id, ctx.now()));
            log->sync();
        }
        const HttpResponse answer = poster.send(
            poster.request("POST",
                           fmt::format("{}/{}/attempts", deliveries_path(session.hook), d.id),
                           opts.dry_run ? std::string("***") : session.bearer()));
        if (answer.status >= 500) {
            throw Error(fmt::format("asking GitHub to redeliver {} (delivery {}): GitHub answered "
                                    "{} ({}); it may have taken it: the next run with --state "
                                    "checks its list before trying again",
                                    clean(d.guid),
                                    d.id,
                                    answer.status,
                                    github_error_message(answer)),
                        ExitCode::unavailable);
        }
        if (answer.status != 202) {
            if (log) {
                log->append(RedeliveryState::refused_line(d.guid, d.id));
            }
            if (answer.status == 401 || answer.status == 403) {
                throw deliveries_failure(fmt::format("redelivering delivery {}", d.id),
                                         answer,
                                         session.hook,
                                         &session.credentials(),
                                         ctx.now());
            }
            ++refused;
            fmt::print(ctx.err,
                       "crcr: error: GitHub refused to redeliver {} (delivery {}): {} {}\n",
                       clean(d.guid),
                       d.id,
                       answer.status,
                       github_error_message(answer));
            continue;
        }
        if (log) {
            log->append(RedeliveryState::redelivered_line(d.guid, d.id, ctx.now()));
            log->sync();
        }
        sent.push_back(d.guid);
        result["redelivered"].push_back({{"guid", d.guid}, {"id", d.id}});
    }
    if (log) {
        log->append(RedeliveryState::checked_line(started));
    }
    if (opts.json) {
        fmt::print(ctx.out, "{}\n", result.dump(2));
    } else {
        fmt::print(ctx.out,
                   "{} {}: {}; held back {}, skipped {}{}\n",
                   opts.dry_run ? "would redeliver" : "redelivered",
                   sent.size(),
                   sent.empty() ? std::string("none") : fmt::format("{}", fmt::join(sent, ", ")),
                   held,
                   result["skipped"].size(),
                   refused > 0 ? fmt::format(", refused {}", refused) : "");
    }
    return held > 0 || refused > 0 ? ExitCode::failure : ExitCode::ok;
}

} // namespace crcr
