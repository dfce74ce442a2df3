// `relay serve` and `relay status`: what crcr-relay, the tests and the portable binary link. The
// crcr program of a shared-library build runs them by executing crcr-relay instead
// (commands/relay_exec.cpp), so that no other command loads cpp-httplib or SQLite.

#include "relay.hpp"
#include "secret_options.hpp"

#include "crcr/arrivals.hpp"
#include "crcr/error.hpp"
#include "crcr/github_names.hpp"
#include "crcr/relay.hpp"
#include "crcr/relay_emulator.hpp"
#include "crcr/relay_status.hpp"
#include "crcr/relay_store.hpp"

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
        const Arrivals arrivals = compare_arrivals(opts.compare, ctx.in, store);
        if (opts.json) {
            fmt::print(ctx.out, "{}\n", arrivals_json(path, arrivals).dump(2));
        } else {
            fmt::print(ctx.out, "{}", format_arrivals(path, arrivals));
            for (const std::string& problem : arrivals.unreadable) {
                fmt::print(ctx.err, "crcr: error: {}\n", problem);
            }
        }
        const bool all_well = arrivals.never_arrived.empty() && arrivals.never_accepted.empty()
                              && arrivals.unreadable.empty();
        return all_well ? ExitCode::ok : ExitCode::failure;
    }
    const RelayStatus status = read_relay_status(store, path, opts.limit);
    if (opts.json) {
        fmt::print(ctx.out, "{}\n", relay_status_json(status).dump(2));
    } else {
        fmt::print(ctx.out, "{}", format_relay_status(status));
    }
    return ExitCode::ok;
}

} // namespace crcr
