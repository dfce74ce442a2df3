#pragma once

#include "github_options.hpp"

#include "crcr/context.hpp"
#include "crcr/exit_code.hpp"
#include "crcr/secrets.hpp"

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
} // namespace CLI

namespace crcr {

struct RelayServeOptions {
    std::string listen = "127.0.0.1:8080";
    bool listen_any = false;
    std::string allowlist = ".github/allowlist.yml";
    WebhookSecretSources secret;
    std::string upstream_repo = "pytorch/pytorch";
    std::string oidc_jwks; // FILE or URL
    int rate_limit = 100;
    std::string dispatch = "record"; // record | github
    std::size_t dispatch_workers = 8;
    std::size_t threads = 16;
    std::string state; // default under the user's state directory
    std::string log_format = "text";
    GitHubOptions github;

    bool operator==(const RelayServeOptions&) const = default;
};

struct RelayStatusOptions {
    std::string state;
    std::size_t limit = 20;
    bool json = false;
    std::vector<std::string> compare; // records whose arrival to look up

    bool operator==(const RelayStatusOptions&) const = default;
};

struct RelayTokenOptions {
    std::string private_key;
    std::string repository;
    std::string kid = "crcr-demo";
    std::string audience = "pytorch-cross-repo-ci-relay";
    std::string issuer = "https://token.actions.githubusercontent.com";
    int lifetime = 300; // seconds
    bool jwks = false;  // print the key set instead of a token

    bool operator==(const RelayTokenOptions&) const = default;
};

// Declares `relay` with `serve`, `status` and `token` on `parent`.
void add_relay(CLI::App& parent,
               std::function<void(const RelayServeOptions&)> on_serve,
               std::function<void(const RelayStatusOptions&)> on_status,
               std::function<void(const RelayTokenOptions&)> on_token);

// `relay serve` and `relay status` have two definitions, one linked in each program: the engine
// (commands/relay_run.cpp: crcr-relay, the tests, the portable crcr), and the execution of
// crcr-relay with the same command line (commands/relay_exec.cpp: crcr in a shared-library build,
// which then loads neither cpp-httplib nor SQLite). crcr/helper.hpp says why.

// Serves the relay emulator until SIGINT or SIGTERM.
ExitCode run_relay_serve(const RelayServeOptions& opts, Context& ctx);
// Prints the recent deliveries of a relay state.
ExitCode run_relay_status(const RelayStatusOptions& opts, Context& ctx);
// Prints a locally signed OIDC token (or the key set that verifies it) for testing callbacks.
ExitCode run_relay_token(const RelayTokenOptions& opts, Context& ctx);

} // namespace crcr
