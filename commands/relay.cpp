#include "relay.hpp"

#include "option_checks.hpp"
#include "secret_options.hpp"

#include "crcr/arrivals.hpp"
#include "crcr/error.hpp"
#include "crcr/files.hpp"
#include "crcr/github_names.hpp"
#include "crcr/relay.hpp"
#include "crcr/relay_emulator.hpp"
#include "crcr/relay_store.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <unistd.h>

namespace crcr {

namespace {

struct ListenAddress {
    std::string host;
    int port = 0;
};

ListenAddress parse_listen(const std::string& text) {
    const std::size_t colon = text.rfind(':');
    const auto bad = [&] {
        return Error(fmt::format("--listen '{}': expected HOST:PORT, such as 127.0.0.1:8080 (port "
                                 "0 picks a free one)",
                                 text),
                     ExitCode::usage);
    };
    if (colon == std::string::npos || colon == 0) {
        throw bad();
    }
    ListenAddress address;
    address.host = text.substr(0, colon);
    if (address.host.size() > 2 && address.host.front() == '[' && address.host.back() == ']') {
        address.host = address.host.substr(1, address.host.size() - 2);
    }
    const std::string port = text.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos
        || std::stoi(port) > 65535) {
        throw bad();
    }
    address.port = std::stoi(port);
    return address;
}

bool is_loopback(const std::string& host) {
    return host == "localhost" || host == "::1" || host.starts_with("127.");
}

} // namespace

void add_relay(CLI::App& parent,
               std::function<void(const RelayServeOptions&)> on_serve,
               std::function<void(const RelayStatusOptions&)> on_status,
               std::function<void(const RelayTokenOptions&)> on_token) {
    CLI::App* relay = parent.add_subcommand(
        "relay", "Run a local emulator of the relay: webhooks in, dispatches out, callbacks back");
    relay->require_subcommand(1);
    relay->footer(R"(Examples:
  crcr relay serve --allowlist examples/allowlist.yml --secret-file examples/webhook-secret.txt \
      --oidc-jwks examples/relay/demo-jwks.json --state relay.db
  crcr relay status --state relay.db
  crcr relay token --private-key examples/relay/demo-oidc-key.pem --repository pytorch/crcr-test

Exit status: 0 ok, 1 failure, 2 usage, 4 authentication, 5 unreachable or transient.)");

    auto serve_opts = std::make_shared<RelayServeOptions>();
    CLI::App* serve = relay->add_subcommand(
        "serve", "Serve POST /github/webhook and /github/callback as the production relay does");
    serve->add_option("--listen", serve_opts->listen, "Address to listen on (port 0: a free one)")
        ->type_name("HOST:PORT")
        ->capture_default_str();
    serve->add_flag("--listen-any",
                    serve_opts->listen_any,
                    "Allow an address other than loopback (the emulator has no TLS)");
    serve
        ->add_option("--allowlist", serve_opts->allowlist, "The allowlist, re-read when it changes")
        ->type_name("FILE")
        ->capture_default_str();
    add_secret_options(*serve, serve_opts->secret);
    serve
        ->add_option(
            "--upstream-repo", serve_opts->upstream_repo, "The repository webhooks come from")
        ->type_name("OWNER/NAME")
        ->capture_default_str();
    serve
        ->add_option("--oidc-jwks",
                     serve_opts->oidc_jwks,
                     "The key set callback tokens are checked against (a file, or an https URL "
                     "read at start)")
        ->type_name("FILE|URL");
    serve->add_option("--rate-limit", serve_opts->rate_limit, "Callbacks per minute per repository")
        ->type_name("N")
        ->transform(whole_number({1, 1'000'000}))
        ->capture_default_str();
    serve
        ->add_option("--dispatch",
                     serve_opts->dispatch,
                     "record: keep dispatches in the state; github: send them to GitHub")
        ->type_name("MODE")
        ->check(CLI::IsMember({"record", "github"}))
        ->capture_default_str();
    serve
        ->add_option("--dispatch-workers",
                     serve_opts->dispatch_workers,
                     "Dispatches in flight, all deliveries together")
        ->type_name("N")
        ->transform(whole_number({1, 100}))
        ->capture_default_str();
    serve
        ->add_option("--threads",
                     serve_opts->threads,
                     "Requests handled at once; request bodies in memory are capped at N x 25 MB")
        ->type_name("N")
        ->transform(whole_number({1, 256}))
        ->capture_default_str();
    serve
        ->add_option("--state",
                     serve_opts->state,
                     "The SQLite state (default $XDG_STATE_HOME/crcr/relay.db)")
        ->type_name("FILE");
    serve->add_option("--log-format", serve_opts->log_format, "Logs on stderr as text or json")
        ->type_name("FORMAT")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    add_github_options(*serve, serve_opts->github);
    serve->footer(R"(Examples:
  crcr relay serve --allowlist .github/allowlist.yml --secret-file secret.txt \
      --oidc-jwks examples/relay/demo-jwks.json --state relay.db
  crcr relay serve --listen 127.0.0.1:0 --dispatch github --app-id 123 --private-key app.pem

The first line on stdout is the URL served. Stops on SIGINT or SIGTERM after answering the
requests in flight.

Exit status: 0 stopped by a signal, 1 unreadable or broken allowlist, JWKS or state, 2 usage,
4 missing credentials (--dispatch github), 5 the address cannot be used.)");
    serve->callback([serve_opts, on_serve = std::move(on_serve)] { on_serve(*serve_opts); });

    auto status_opts = std::make_shared<RelayStatusOptions>();
    CLI::App* status = relay->add_subcommand(
        "status", "List a relay's recent deliveries, dispatches, callbacks and check runs");
    status->add_option("--state", status_opts->state, "The SQLite state (default as relay serve)")
        ->type_name("FILE");
    status->add_option("--limit", status_opts->limit, "How many deliveries, newest first")
        ->type_name("N")
        ->transform(whole_number({1, 1'000'000}))
        ->capture_default_str();
    status->add_flag("--json", status_opts->json, "Print one JSON document");
    status
        ->add_option("--compare",
                     status_opts->compare,
                     "Delivery records (files, folders, - for stdin, as replay reads them): "
                     "list those that never arrived or were never accepted")
        ->type_name("PATH")
        ->excludes("--limit");
    status->footer(R"(Examples:
  crcr relay status --state relay.db
  crcr relay status --json --limit 100
  crcr deliveries pull --since 6h --output pulled/ && crcr relay status --compare pulled/

With --compare, each delivery id of the records (GitHub's, as deliveries pull writes them, or
crcr capture records) is looked up in the state: which never reached this relay, and which
reached it but were never answered 2xx. Replay those with crcr replay --filter delivery=ID.
Exit status: 0 printed (--compare: every delivery arrived and was accepted), 1 no such state or
not a relay state (--compare: some never arrived, were never accepted or could not be read),
2 usage.)");
    status->callback([status_opts, on_status = std::move(on_status)] { on_status(*status_opts); });

    auto token_opts = std::make_shared<RelayTokenOptions>();
    CLI::App* token = relay->add_subcommand(
        "token", "Sign a test OIDC token for callbacks to the emulator (or print its key set)");
    token->add_option("--private-key", token_opts->private_key, "The RSA key to sign with (PEM)")
        ->type_name("FILE")
        ->required();
    token->add_option("--repository", token_opts->repository, "The `repository` claim")
        ->type_name("OWNER/NAME");
    token->add_option("--kid", token_opts->kid, "The key id")->capture_default_str();
    token->add_option("--audience", token_opts->audience, "The `aud` claim")->capture_default_str();
    token->add_option("--issuer", token_opts->issuer, "The `iss` claim")->capture_default_str();
    token->add_option("--lifetime", token_opts->lifetime, "Seconds until it expires")
        ->type_name("SECONDS")
        ->transform(whole_number({1, 86'400}))
        ->capture_default_str();
    token->add_flag("--jwks", token_opts->jwks, "Print the JWKS that verifies the tokens instead");
    token->footer(R"(Examples:
  crcr relay token --private-key examples/relay/demo-oidc-key.pem --repository pytorch/crcr-test
  crcr relay token --private-key key.pem --jwks > jwks.json

Tokens signed with a local key are accepted only by a relay given its key set (--oidc-jwks).

Exit status: 0 printed, 1 unreadable key, 2 usage.)");
    token->callback([token_opts, on_token = std::move(on_token)] { on_token(*token_opts); });
}

ExitCode run_relay_serve(const RelayServeOptions& opts, Context& ctx) {
    const ListenAddress address = parse_listen(opts.listen);
    if (!opts.listen_any && !is_loopback(address.host)) {
        throw Error(fmt::format("--listen '{}' is not a loopback address: the emulator has no TLS "
                                "and no access control (add --listen-any to serve it anyway)",
                                opts.listen),
                    ExitCode::usage);
    }
    if (const auto problem = full_name_problem(opts.upstream_repo)) {
        throw Error(fmt::format("--upstream-repo '{}': {}", opts.upstream_repo, *problem),
                    ExitCode::usage);
    }
    const std::optional<std::string> secret = resolve_secret(opts.secret, ctx);
    if (!secret) {
        throw Error("the relay needs the webhook secret to check signatures: --secret-file, or "
                    "CRCR_WEBHOOK_SECRET_FILE or CRCR_WEBHOOK_SECRET",
                    ExitCode::usage);
    }
    // --dispatch github: the client of dispatch-test, alive as long as the server.
    std::optional<GitHubApi> api;
    std::optional<GitHubAuth> auth;
    RelayEmulatorSettings settings{.host = address.host,
                                   .port = address.port,
                                   .allowlist = opts.allowlist,
                                   .secret = *secret,
                                   .upstream_repo = opts.upstream_repo,
                                   .oidc_jwks = opts.oidc_jwks,
                                   .rate_limit = opts.rate_limit,
                                   .dispatch = opts.dispatch,
                                   .dispatch_workers = opts.dispatch_workers,
                                   .threads = opts.threads,
                                   .state = opts.state,
                                   .json_log = opts.log_format == "json"};
    if (opts.dispatch == "github") {
        settings.make_dispatcher = [&](const Log& log) {
            GitHubCredentials credentials =
                require_credentials(opts.github, ctx, "--dispatch github");
            api.emplace(
                ctx.http, resolve_api_url(opts.github, ctx), github_waits(opts.github, ctx));
            auth.emplace(*api, std::move(credentials));
            return github_dispatcher(*api, *auth, log);
        };
    }
    return serve_relay_emulator(settings, ctx);
}

namespace {

std::string format_duration(const std::optional<double>& duration) {
    return duration ? fmt::format("{:.3f} s", *duration) : std::string("-");
}

// The ISO 8601 time of `epoch` seconds.
std::string time_of(double epoch) {
    return iso8601(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::duration<double>(epoch))));
}

Json callback_json(const CallbackRow& c) {
    return Json{{"at",
                 iso8601(std::chrono::system_clock::time_point(
                     std::chrono::duration_cast<std::chrono::system_clock::duration>(
                         std::chrono::duration<double>(c.at))))},
                {"repo", c.repo},
                {"delivery_id", c.delivery_id},
                {"run_id", c.run_id},
                {"run_attempt", c.run_attempt},
                {"workflow", c.workflow},
                {"job_name", c.job_name},
                {"status", c.status},
                {"conclusion", c.conclusion.empty() ? Json() : Json(c.conclusion)},
                {"answer_status", c.answer_status},
                {"answer", Json::parse(c.answer, nullptr, false)},
                {"queue_time", c.queue_time ? Json(*c.queue_time) : Json()},
                {"execution_time", c.execution_time ? Json(*c.execution_time) : Json()}};
}

Json arrival_json(const ArrivalRecord& a) {
    return Json{{"delivery_id", a.delivery_id},
                {"event", a.event},
                {"action", a.action.empty() ? Json() : Json(a.action)},
                {"location", a.location},
                {"answers", a.answers}};
}

ExitCode
print_arrivals(const std::string& path, const Arrivals& arrivals, bool json, Context& ctx) {
    const bool all_well = arrivals.never_arrived.empty() && arrivals.never_accepted.empty()
                          && arrivals.unreadable.empty();
    if (json) {
        Json never_arrived = Json::array();
        for (const ArrivalRecord& a : arrivals.never_arrived) {
            never_arrived.push_back(arrival_json(a));
        }
        Json never_accepted = Json::array();
        for (const ArrivalRecord& a : arrivals.never_accepted) {
            never_accepted.push_back(arrival_json(a));
        }
        fmt::print(ctx.out,
                   "{}\n",
                   Json{{"state", path},
                        {"deliveries", arrivals.deliveries},
                        {"never_arrived", never_arrived},
                        {"never_accepted", never_accepted},
                        {"unreadable", arrivals.unreadable}}
                       .dump(2));
        return all_well ? ExitCode::ok : ExitCode::failure;
    }
    if (arrivals.deliveries == 0) {
        fmt::print(ctx.out, "{}: no delivery records to compare\n", path);
    } else if (arrivals.never_arrived.empty() && arrivals.never_accepted.empty()) {
        fmt::print(ctx.out,
                   "{}: all {} deliveries arrived and were accepted\n",
                   path,
                   arrivals.deliveries);
    } else {
        fmt::print(ctx.out,
                   "{}: {} of {} deliveries never arrived, {} arrived but were never accepted\n",
                   path,
                   arrivals.never_arrived.size(),
                   arrivals.deliveries,
                   arrivals.never_accepted.size());
    }
    const auto list = [&ctx](std::string_view title, const std::vector<ArrivalRecord>& records) {
        if (records.empty()) {
            return;
        }
        fmt::print(ctx.out, "\n{}:\n", title);
        for (const ArrivalRecord& a : records) {
            fmt::print(ctx.out,
                       "  {}  {}{}{}  {}\n",
                       a.delivery_id,
                       a.event,
                       a.action.empty() ? "" : " " + a.action,
                       a.answers.empty() ? ""
                                         : fmt::format("  answered {}", fmt::join(a.answers, ", ")),
                       a.location);
        }
    };
    list("Never arrived", arrivals.never_arrived);
    list("Arrived, never answered 2xx", arrivals.never_accepted);
    for (const std::string& problem : arrivals.unreadable) {
        fmt::print(ctx.err, "crcr: error: {}\n", problem);
    }
    return all_well ? ExitCode::ok : ExitCode::failure;
}

} // namespace

ExitCode run_relay_status(const RelayStatusOptions& opts, Context& ctx) {
    const std::string path =
        opts.state.empty()
            ? default_relay_state_path(ctx.env.get("XDG_STATE_HOME"), ctx.env.get("HOME"))
            : opts.state;
    if (::access(path.c_str(), F_OK) != 0) {
        throw Error(fmt::format("no relay state at '{}': start one with crcr relay serve --state "
                                "'{}'",
                                path,
                                path));
    }
    RelayStore store(path, /*read_only=*/true);
    if (!opts.compare.empty()) {
        return print_arrivals(path, compare_arrivals(opts.compare, ctx.in, store), opts.json, ctx);
    }
    const std::vector<DeliveryStatus> recent = store.recent(opts.limit);
    const std::vector<CallbackRow> others = store.unmatched_callbacks(opts.limit);
    if (opts.json) {
        Json deliveries = Json::array();
        for (const DeliveryStatus& d : recent) {
            Json dispatches = Json::array();
            for (const DispatchRow& row : d.dispatches) {
                dispatches.push_back(Json{
                    {"repo", row.repo},
                    {"level", row.level},
                    {"at", time_of(row.at)},
                    {"ok", row.ok},
                    {"error", row.error.empty() ? Json() : Json(row.error)},
                    {"github_status", row.github_status == 0 ? Json() : Json(row.github_status)},
                    {"bytes", row.bytes}});
            }
            Json callbacks = Json::array();
            for (const CallbackRow& c : d.callbacks) {
                callbacks.push_back(callback_json(c));
            }
            Json check_runs = Json::array();
            for (const CheckRunRow& r : d.check_runs) {
                check_runs.push_back(
                    Json{{"at", time_of(r.at)},
                         {"repo", r.repo},
                         {"name", r.name},
                         {"status", r.status},
                         {"conclusion", r.conclusion.empty() ? Json() : Json(r.conclusion)},
                         {"details_url", r.details_url},
                         {"blocks_merge", r.blocks_merge}});
            }
            deliveries.push_back(
                Json{{"delivery_id", d.delivery.delivery_id},
                     {"event", d.delivery.event},
                     {"action", d.delivery.action.empty() ? Json() : Json(d.delivery.action)},
                     {"received_at", time_of(d.delivery.received_at)},
                     {"status", d.delivery.status},
                     {"answer", Json::parse(d.delivery.answer, nullptr, false)},
                     {"decision", d.delivery.decision},
                     {"head_sha", d.delivery.head_sha.empty() ? Json() : Json(d.delivery.head_sha)},
                     {"dispatches", dispatches},
                     {"callbacks", callbacks},
                     {"check_runs", check_runs}});
        }
        Json other_callbacks = Json::array();
        for (const CallbackRow& c : others) {
            other_callbacks.push_back(callback_json(c));
        }
        const Json document{{"state", path},
                            {"totals",
                             {{"deliveries", store.count("deliveries")},
                              {"dispatches", store.count("dispatches")},
                              {"callbacks", store.count("callbacks")},
                              {"check_runs", store.count("check_runs")}}},
                            {"deliveries", deliveries},
                            {"other_callbacks", other_callbacks}};
        fmt::print(ctx.out, "{}\n", document.dump(2));
        return ExitCode::ok;
    }
    fmt::print(ctx.out,
               "{}: {} deliveries, {} dispatches, {} callbacks, {} check runs\n",
               path,
               store.count("deliveries"),
               store.count("dispatches"),
               store.count("callbacks"),
               store.count("check_runs"));
    for (const DeliveryStatus& d : recent) {
        fmt::print(ctx.out,
                   "\n{} {}{} {}  {} {}\n",
                   time_of(d.delivery.received_at),
                   d.delivery.event,
                   d.delivery.action.empty() ? "" : " " + d.delivery.action,
                   d.delivery.delivery_id,
                   d.delivery.status,
                   d.delivery.decision);
        for (const DispatchRow& row : d.dispatches) {
            fmt::print(ctx.out,
                       "  dispatch   {:<32} {}  {}\n",
                       row.repo,
                       row.level,
                       row.ok ? (row.github_status != 0
                                     ? fmt::format("ok (GitHub {})", row.github_status)
                                     : "ok")
                              : row.error);
        }
        for (const CallbackRow& c : d.callbacks) {
            fmt::print(ctx.out,
                       "  callback   {:<32} run {}/{} {}  {}{}  {}  queue {}  run {}\n",
                       c.repo,
                       c.run_id,
                       c.run_attempt,
                       c.job_name,
                       c.status,
                       c.conclusion.empty() ? "" : " " + c.conclusion,
                       c.answer_status,
                       format_duration(c.queue_time),
                       format_duration(c.execution_time));
        }
        for (const CheckRunRow& r : d.check_runs) {
            fmt::print(ctx.out,
                       "  check run  {}  {}{}{}\n",
                       r.name,
                       r.status,
                       r.conclusion.empty() ? "" : " " + r.conclusion,
                       r.blocks_merge ? "  (blocks merge)" : "");
        }
    }
    if (!others.empty()) {
        fmt::print(ctx.out, "\nCallbacks without a delivery here:\n");
        for (const CallbackRow& c : others) {
            fmt::print(ctx.out,
                       "  {} {:<32} {} {}  {}\n",
                       time_of(c.at),
                       c.repo.empty() ? "(no verified token)" : c.repo,
                       c.delivery_id,
                       c.status,
                       c.answer_status == 200 ? std::to_string(c.answer_status)
                                              : fmt::format("{} {}", c.answer_status, c.answer));
        }
    }
    return ExitCode::ok;
}

ExitCode run_relay_token(const RelayTokenOptions& opts, Context& ctx) {
    const RsaPrivateKey key(read_file(opts.private_key), opts.private_key);
    if (opts.jwks) {
        fmt::print(
            ctx.out, "{}\n", Json{{"keys", Json::array({key.public_jwk(opts.kid)})}}.dump(2));
        return ExitCode::ok;
    }
    if (const auto problem = full_name_problem(opts.repository)) {
        throw Error(fmt::format("--repository '{}': {}", opts.repository, *problem),
                    ExitCode::usage);
    }
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(ctx.now().time_since_epoch()).count();
    const std::string owner = opts.repository.substr(0, opts.repository.find('/'));
    const nlohmann::json claims{
        {"iss", opts.issuer},
        {"aud", opts.audience},
        {"sub", fmt::format("repo:{}:ref:refs/heads/main", opts.repository)},
        {"repository", opts.repository},
        {"repository_owner", owner},
        {"ref", "refs/heads/main"},
        {"event_name", "repository_dispatch"},
        {"iat", now},
        {"nbf", now},
        {"exp", now + opts.lifetime}};
    fmt::print(ctx.out, "{}\n", make_rs256_jwt(key, opts.kid, claims));
    return ExitCode::ok;
}

} // namespace crcr
