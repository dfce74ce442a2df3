#include "relay.hpp"

#include "option_checks.hpp"
#include "secret_options.hpp"

#include "crcr/error.hpp"
#include "crcr/files.hpp"
#include "crcr/github_names.hpp"
#include "crcr/jwt.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>

namespace crcr {

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
